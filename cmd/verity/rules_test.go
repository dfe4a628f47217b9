package main

import (
	"cmp"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// newSiteCLI migrates a fresh database and creates a tenant and a site
// through the CLI; the OS user is "ops".
func newSiteCLI(t *testing.T) (c *cli, tenantID, siteID string) {
	t.Helper()
	c = newCLI(t)
	c.env["USER"] = "ops"
	c.mustRun("", "migrate")
	out, _ := c.mustRun("", "tenant", "create", "--name", "Acme", "--json")
	var tenant struct {
		ID string `json:"tenant_id"`
	}
	if err := json.Unmarshal([]byte(out), &tenant); err != nil {
		t.Fatal(err)
	}
	out, _ = c.mustRun("", "site", "create", "--tenant", tenant.ID, "--domain", "acme.example", "--json")
	var site siteOut
	if err := json.Unmarshal([]byte(out), &site); err != nil {
		t.Fatal(err)
	}
	return c, tenant.ID, site.ID
}

// auditOf returns the tenant's audit entries with the given action prefix,
// without their times, sorted by action, target and detail (entries of the
// same second have no order).
func auditOf(t *testing.T, c *cli, tenantID, prefix string) []storage.AuditEntry {
	t.Helper()
	log, err := c.store().AuditLog(context.Background(), uuid.MustParse(tenantID), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []storage.AuditEntry
	for _, e := range log {
		if strings.HasPrefix(e.Action, prefix) {
			if e.TenantID.String() != tenantID || time.Since(e.TS) > time.Minute {
				t.Errorf("audit entry %+v: want tenant %s, a recent time", e, tenantID)
			}
			e.TS, e.TenantID = time.Time{}, uuid.Nil
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b storage.AuditEntry) int {
		return cmp.Or(strings.Compare(a.Action, b.Action), strings.Compare(a.Target, b.Target), strings.Compare(a.Detail, b.Detail))
	})
	return out
}

func TestSiteRuleCommands(t *testing.T) {
	c, tenantID, siteID := newSiteCLI(t)
	if out, _ := c.mustRun("", "site", "rule", "list", siteID); !strings.Contains(out, "No rules for acme.example") {
		t.Fatalf("empty list = %q", out)
	}
	// Flags before and after the site id.
	out, _ := c.mustRun("", "site", "rule", "add", "--json", siteID, "--action", "deny", "--kind", "asn", "--value", "AS16509", "--note", "scraper")
	var deny ruleOut
	if err := json.Unmarshal([]byte(out), &deny); err != nil {
		t.Fatalf("rule add --json = %q: %v", out, err)
	}
	if uuid.Validate(deny.ID) != nil || deny.SiteID != siteID || deny.Action != "deny" || deny.Kind != "asn" || deny.Value != "16509" ||
		deny.Note != "scraper" || deny.CreatedBy != "cli:ops" || time.Since(deny.CreatedAt) > time.Minute {
		t.Fatalf("rule add --json = %+v", deny)
	}
	out, _ = c.mustRun("", "site", "rule", "add", siteID, "--action", "allow", "--kind", "country", "--value", "uk")
	if !strings.HasPrefix(out, "Added rule ") || !strings.Contains(out, "to acme.example: allow country GB") {
		t.Fatalf("rule add = %q", out)
	}

	out, _ = c.mustRun("", "site", "rule", "list", siteID, "--json")
	var listed []ruleOut
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 || listed[0] != deny || listed[1].Value != "GB" {
		t.Fatalf("rule list --json = %q (%v)", out, err)
	}
	out, _ = c.mustRun("", "site", "rule", "list", siteID)
	if !strings.Contains(out, "RULE ID") || !strings.Contains(out, deny.ID) || !strings.Contains(out, "16509") || !strings.Contains(out, "scraper") {
		t.Fatalf("rule list = %q", out)
	}

	out, _ = c.mustRun("", "site", "rule", "remove", siteID, deny.ID)
	if out != "Removed rule "+deny.ID+" from acme.example: deny asn 16509 (scraper)\n" {
		t.Fatalf("rule remove = %q", out)
	}
	_, _, err := c.run("", "site", "rule", "remove", siteID, deny.ID)
	if err == nil || isUsage(err) || !strings.Contains(err.Error(), "has no rule "+deny.ID) {
		t.Fatalf("second remove: %v, want a failure (exit 1) naming the rule", err)
	}
	rules, err := c.store().Rules(context.Background(), uuid.MustParse(siteID))
	if err != nil || len(rules) != 1 || rules[0].Value != "GB" {
		t.Fatalf("stored rules = %+v, %v", rules, err)
	}

	want := []storage.AuditEntry{
		{Actor: "cli:ops", Action: "rule.add", Target: deny.ID, Detail: "site " + siteID + ": deny asn 16509 (scraper)"},
		{Actor: "cli:ops", Action: "rule.add", Target: rules[0].ID.String(), Detail: "site " + siteID + ": allow country GB"},
		{Actor: "cli:ops", Action: "rule.remove", Target: deny.ID, Detail: "site " + siteID + ": deny asn 16509 (scraper)"},
	}
	slices.SortFunc(want[:2], func(a, b storage.AuditEntry) int { return strings.Compare(a.Target, b.Target) })
	if got := auditOf(t, c, tenantID, "rule."); !reflect.DeepEqual(got, want) {
		t.Fatalf("audit =\n%+v\nwant\n%+v", got, want)
	}

	// Another site cannot see or remove this site's rules.
	other := uuid.NewString()
	if _, _, err := c.run("", "site", "rule", "remove", other, rules[0].ID.String()); err == nil || !strings.Contains(err.Error(), "no site "+other) {
		t.Fatalf("remove on an unknown site: %v", err)
	}
}

func TestQuarantineCommands(t *testing.T) {
	c, tenantID, siteID := newSiteCLI(t)
	ctx := context.Background()
	st := c.store()
	site := uuid.MustParse(siteID)
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	var events []storage.Event
	for i, asn := range []uint32{16509, 16509, 3320} {
		events = append(events, storage.Event{SiteID: site, TS: day.Add(time.Duration(i+1) * time.Hour), EventID: uint64(i + 1),
			Type: "pageview", VisitorID: uint64(i + 1), SessionID: uint64(i + 1), Verdict: "ok", ASN: asn})
	}
	if err := st.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	human := func() uint64 {
		t.Helper()
		tot, err := st.Totals(ctx, site, day, day.Add(24*time.Hour), storage.ViewHuman)
		if err != nil {
			t.Fatal(err)
		}
		return tot.Pageviews
	}
	if n := human(); n != 3 {
		t.Fatalf("before: %d human pageviews, want 3", n)
	}

	out, _ := c.mustRun("", "quarantine", "add", siteID, "--from", "2026-03-10", "--to", "2026-03-10T03:00:00+01:00",
		"--kind", "asn", "--value", "AS16509", "--note", "AWS scraper", "--json")
	var q quarantineOut
	if err := json.Unmarshal([]byte(out), &q); err != nil {
		t.Fatalf("quarantine add --json = %q: %v", out, err)
	}
	// 03:00+01:00 is 02:00 UTC: the window holds the first event only.
	if uuid.Validate(q.ID) != nil || q.SiteID != siteID || !q.From.Equal(day) || !q.To.Equal(day.Add(2*time.Hour)) || q.Kind != "asn" ||
		q.Value != "16509" || q.Note != "AWS scraper" || q.CreatedBy != "cli:ops" || q.Revoked {
		t.Fatalf("quarantine add --json = %+v", q)
	}
	if n := human(); n != 2 {
		t.Fatalf("quarantined: %d human pageviews, want 2", n)
	}
	out, _ = c.mustRun("", "quarantine", "add", siteID, "--from", "2026-03-10 01:30", "--to", "now", "--kind", "asn", "--value", "16509")
	if !strings.Contains(out, "Quarantined on acme.example: asn 16509 from 2026-03-10T01:30:00Z to ") || !strings.Contains(out, "verity quarantine revoke "+siteID) {
		t.Fatalf("quarantine add = %q", out)
	}
	if n := human(); n != 1 {
		t.Fatalf("two quarantines: %d human pageviews, want 1 (AS3320)", n)
	}

	out, _ = c.mustRun("", "quarantine", "revoke", siteID, q.ID, "--json")
	var revoked quarantineOut
	if err := json.Unmarshal([]byte(out), &revoked); err != nil || !revoked.Revoked || revoked.ID != q.ID {
		t.Fatalf("revoke --json = %q (%v)", out, err)
	}
	if n := human(); n != 2 {
		t.Fatalf("after revoking the first: %d human pageviews, want 2", n)
	}
	_, _, err := c.run("", "quarantine", "revoke", siteID, q.ID)
	if err == nil || isUsage(err) || !strings.Contains(err.Error(), "already revoked") {
		t.Fatalf("second revoke: %v", err)
	}
	if _, _, err := c.run("", "quarantine", "revoke", siteID, uuid.NewString()); err == nil || !strings.Contains(err.Error(), "has no quarantine") {
		t.Fatalf("revoke unknown: %v", err)
	}

	out, _ = c.mustRun("", "quarantine", "list", siteID, "--json")
	var listed []quarantineOut
	if err := json.Unmarshal([]byte(out), &listed); err != nil || len(listed) != 2 || listed[0].ID != q.ID || !listed[0].Revoked || listed[1].Revoked {
		t.Fatalf("quarantine list --json = %q (%v)", out, err)
	}
	out, _ = c.mustRun("", "quarantine", "list", siteID)
	if !strings.Contains(out, "revoked") || !strings.Contains(out, "active") || !strings.Contains(out, "AWS scraper") {
		t.Fatalf("quarantine list = %q", out)
	}

	audit := auditOf(t, c, tenantID, "quarantine.")
	var actions []string
	for _, a := range audit {
		if a.Actor != "cli:ops" || !strings.HasPrefix(a.Detail, "site "+siteID+": asn 16509 from 2026-03-10T") {
			t.Errorf("audit entry %+v", a)
		}
		actions = append(actions, a.Action+" "+a.Target)
	}
	adds := []string{"quarantine.add " + q.ID, "quarantine.add " + listed[1].ID}
	slices.Sort(adds)
	if want := append(adds, "quarantine.revoke "+q.ID); !reflect.DeepEqual(actions, want) {
		t.Fatalf("audit actions = %v, want %v", actions, want)
	}
	// Raw events are never touched.
	if rows, _, err := st.CountEvents(ctx, site); err != nil || rows != 3 {
		t.Fatalf("stored events: %d, %v", rows, err)
	}
}

// Bad input is a usage error (exit 2) with a message that says what is
// wrong, found before anything connects (the address refuses connections).
func TestRuleAndQuarantineUsageErrors(t *testing.T) {
	c := &cli{t: t, env: map[string]string{"VERITY_SECRET": testSecret, "VERITY_CLICKHOUSE_ADDR": "127.0.0.1:1"}}
	site := uuid.NewString()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"site", "rule", "add"}, "want SITE_ID, got 0"},
		{[]string{"site", "rule", "add", "acme.example", "--action", "deny", "--kind", "asn", "--value", "1"}, `site "acme.example" is not an id`},
		{[]string{"site", "rule", "add", site, "--action", "block", "--kind", "asn", "--value", "1"}, `rule action "block": want allow or deny`},
		{[]string{"site", "rule", "add", site, "--action", "deny", "--kind", "ip", "--value", "1.2.3.4"}, "want cidr, asn, country, ua or path"},
		{[]string{"site", "rule", "add", site, "--action", "deny", "--kind", "cidr", "--value", "1.2.3.0/33"}, "want a network"},
		{[]string{"site", "rule", "add", site, "--action", "deny", "--kind", "asn", "--value", "Amazon"}, "want a number"},
		{[]string{"site", "rule", "add", site, "--action", "deny", "--kind", "country", "--value", "Germany"}, "two-letter"},
		{[]string{"site", "rule", "add", site, "--action", "deny", "--kind", "ua", "--value", ""}, "non-empty"},
		{[]string{"site", "rule", "add", site, "--action", "deny", "--kind", "path", "--value", "admin/*"}, "starting with /"},
		{[]string{"site", "rule", "add", site, "extra", "--action", "deny", "--kind", "asn", "--value", "1"}, "got 2"},
		{[]string{"site", "rule", "list"}, "want SITE_ID"},
		{[]string{"site", "rule", "remove", site}, "want SITE_ID and RULE_ID, got 1"},
		{[]string{"site", "rule", "remove", site, "7"}, `rule "7" is not an id`},
		{[]string{"quarantine", "add", site, "--from", "2026-03-10", "--to", "2026-03-11", "--kind", "cidr", "--value", "10.0.0.0/8"}, `quarantine kind "cidr"`},
		{[]string{"quarantine", "add", site, "--from", "2026-03-11", "--to", "2026-03-10", "--kind", "asn", "--value", "1"}, "is not before --to"},
		{[]string{"quarantine", "add", site, "--from", "last week", "--to", "now", "--kind", "asn", "--value", "1"}, `--from "last week" is not a time`},
		{[]string{"quarantine", "add", site, "--to", "now", "--kind", "asn", "--value", "1"}, `--from "" is not a time`},
		{[]string{"quarantine", "add", site, "--from", "2026-03-10", "--to", "now", "--kind", "referrer_domain", "--value", "https://x.example/"}, "host name"},
		{[]string{"quarantine", "add", site, "--from", "2026-03-10", "--to", "now", "--kind", "asn", "--value", "1", "--bogus"}, "flag provided but not defined"},
		{[]string{"quarantine", "list", "x"}, `site "x" is not an id`},
		{[]string{"quarantine", "revoke", site, "x"}, `quarantine "x" is not an id`},
		{[]string{"quarantine"}, "want one of: add, list, revoke"},
	}
	for _, tc := range cases {
		_, _, err := c.run("", tc.args...)
		if !isUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("verity %s: err = %v, want a usage error with %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
	// A valid command gets past the checks and fails to connect: exit 1.
	_, _, err := c.run("", "site", "rule", "list", site)
	if err == nil || isUsage(err) {
		t.Fatalf("valid command: err = %v, want a connection failure", err)
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 12, 8, 30, 15, 500, time.FixedZone("CET", 3600))
	for in, want := range map[string]time.Time{
		"2026-03-10":                time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
		"2026-03-10 14:05":          time.Date(2026, 3, 10, 14, 5, 0, 0, time.UTC),
		"2026-03-10 14:05:09":       time.Date(2026, 3, 10, 14, 5, 9, 0, time.UTC),
		"2026-03-10T14:05:09Z":      time.Date(2026, 3, 10, 14, 5, 9, 0, time.UTC),
		"2026-03-10T14:05:09+02:00": time.Date(2026, 3, 10, 12, 5, 9, 0, time.UTC),
		" now ":                     time.Date(2026, 3, 12, 7, 30, 15, 0, time.UTC),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "10.03.2026", "2026-13-01", "2026-03-10T14:05"} {
		if _, err := parseWhen(in, now); err == nil {
			t.Errorf("parseWhen(%q) accepted", in)
		}
	}
}
