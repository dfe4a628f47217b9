package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// The rules, quarantine and export routes join the isolation matrix of
// TestRouteAccess.
func init() {
	site := func(suffix string) func(*fixture, storage.Tenant, storage.Site) string {
		return func(_ *fixture, _ storage.Tenant, s storage.Site) string { return "/sites/" + s.ID.String() + suffix }
	}
	scopedRoutes = append(scopedRoutes,
		routeCase{"rules", http.MethodGet, site("/rules"), nil, 200},
		routeCase{"add rule", http.MethodPost, site("/rules"), func(*fixture, storage.Site) url.Values {
			return url.Values{"action": {"deny"}, "kind": {"asn"}, "value": {"AS16509"}}
		}, 303},
		routeCase{"remove rule", http.MethodPost, func(f *fixture, _ storage.Tenant, s storage.Site) string {
			r, err := f.st.PutRule(context.Background(), storage.SiteRule{SiteID: s.ID, Action: "deny", Kind: "country", Value: "DE"})
			if err != nil {
				f.t.Fatal(err)
			}
			return "/sites/" + s.ID.String() + "/rules/" + r.ID.String() + "/remove"
		}, nil, 303},
		routeCase{"add quarantine", http.MethodPost, site("/quarantines"), func(*fixture, storage.Site) url.Values {
			return url.Values{"from": {"2026-03-10T14:00"}, "to": {"2026-03-10T16:00"}, "kind": {"country"}, "value": {"DE"}}
		}, 303},
		routeCase{"revoke quarantine", http.MethodPost, func(f *fixture, _ storage.Tenant, s storage.Site) string {
			q, err := f.st.PutQuarantine(context.Background(), storage.Quarantine{SiteID: s.ID, From: statsDay, To: statsDay.Add(time.Hour), Kind: storage.QuarantineCountry, Value: "DE"})
			if err != nil {
				f.t.Fatal(err)
			}
			return "/sites/" + s.ID.String() + "/quarantines/" + q.ID.String() + "/revoke"
		}, nil, 303},
		routeCase{"export page", http.MethodGet, site("/export"), nil, 200},
		routeCase{"export events", http.MethodGet, site("/export/events?period=7d"), nil, 200},
	)
}

func TestRules(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	ctx := context.Background()
	c := f.signedIn(f.adminA)
	base := "/sites/" + f.siteA.ID.String()

	for _, bad := range []url.Values{
		{"action": {"block"}, "kind": {"asn"}, "value": {"16509"}},
		{"action": {"deny"}, "kind": {"asn"}, "value": {"amazon"}},
		{"action": {"deny"}, "kind": {"planet"}, "value": {"Mars"}},
		{"action": {"deny"}, "kind": {"cidr"}, "value": {"10.0.0.0/33"}},
		{"action": {"deny"}, "kind": {"country"}, "value": {"DE"}, "note": {strings.Repeat("x", 501)}},
	} {
		r := c.post(base+"/rules", bad)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "The rule was not added: ") || !strings.Contains(r.body, `value="`+bad.Get("value")+`"`) {
			t.Errorf("%v: %d, want 422 with the reason and the form kept\n%s", bad, r.status, excerpt(r.body))
		}
	}
	if rules, _ := f.st.Rules(ctx, f.siteA.ID); len(rules) != 0 {
		t.Fatalf("bad rules were stored: %+v", rules)
	}

	r := c.post(base+"/rules", url.Values{"action": {"deny"}, "kind": {"asn"}, "value": {"AS16509"}, "note": {"scraper farm"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != base+"/rules?done=rule-added" {
		t.Fatalf("add: %d %q", r.status, r.header.Get("Location"))
	}
	rules, err := f.st.Rules(ctx, f.siteA.ID)
	if err != nil || len(rules) != 1 || rules[0].Value != "16509" || rules[0].Note != "scraper farm" || rules[0].CreatedBy != actor(f.adminA) {
		t.Fatalf("stored rules = %+v, %v", rules, err)
	}
	rule := rules[0]
	page := c.get(base + "/rules?done=rule-added")
	if !strings.Contains(page.body, "Rule added.") || strings.Count(page.body, `data-testid="rule-row"`) != 1 || !strings.Contains(page.body, "<code>16509</code>") {
		t.Errorf("rules page after adding:\n%s", excerpt(page.body))
	}
	// A viewer reads the list, without forms.
	view := f.signedIn(f.viewerA).get(base + "/rules")
	if view.status != http.StatusOK || !strings.Contains(view.body, "16509") || strings.Contains(view.body, `data-testid="rule-form"`) || strings.Contains(view.body, "/remove") {
		t.Errorf("viewer's page: %d\n%s", view.status, excerpt(view.body))
	}
	// B's rule cannot be removed through A's site.
	ruleB, err := f.st.PutRule(ctx, storage.SiteRule{SiteID: f.siteB.ID, Action: "deny", Kind: "country", Value: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	if r := c.post(base+"/rules/"+ruleB.ID.String()+"/remove", nil); r.status != http.StatusNotFound {
		t.Errorf("removing B's rule through A's site: %d, want 404", r.status)
	}
	if rs, _ := f.st.Rules(ctx, f.siteB.ID); len(rs) != 1 {
		t.Errorf("B's rules = %+v", rs)
	}
	if r := c.post(base+"/rules/"+rule.ID.String()+"/remove", nil); r.status != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.status)
	}
	if rs, _ := f.st.Rules(ctx, f.siteA.ID); len(rs) != 0 {
		t.Errorf("rules after removing = %+v", rs)
	}
	if r := c.post(base+"/rules/"+rule.ID.String()+"/remove", nil); r.status != http.StatusNotFound {
		t.Errorf("removing again: %d, want 404", r.status)
	}
	want := []string{
		"rule.add site " + f.siteA.ID.String() + ": deny asn 16509 (scraper farm)",
		"rule.remove site " + f.siteA.ID.String() + ": deny asn 16509 (scraper farm)",
	}
	if got := auditWith(t, f, f.tenantA.ID, "rule.", actor(f.adminA)); !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
	if got := auditWith(t, f, f.tenantB.ID, "rule.", ""); len(got) != 0 {
		t.Errorf("B's audit log has A's changes: %q", got)
	}
}

// auditWith lists tenant's audit entries whose action starts with prefix
// as "action detail", sorted, with the actor in front when it is not actor.
func auditWith(t *testing.T, f *fixture, tenant uuid.UUID, prefix, actor string) []string {
	t.Helper()
	entries, err := f.st.AuditLog(context.Background(), tenant, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, prefix) {
			s := e.Action + " " + e.Detail
			if e.Actor != actor {
				s = e.Actor + " " + s
			}
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func TestQuarantines(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	ctx := context.Background()
	c := f.signedIn(f.ownerA)
	base := "/sites/" + f.siteA.ID.String()
	// A German pageview inside the window and one outside it.
	in := pageview(f.siteA, statsDay.Add(15*time.Hour), 1, 1, "/", "Google", "ok")
	out := pageview(f.siteA, statsDay.Add(17*time.Hour), 2, 2, "/", "Google", "ok")
	in.Country, out.Country = "DE", "DE"
	if err := f.st.InsertEvents(ctx, []storage.Event{in, out}); err != nil {
		t.Fatal(err)
	}
	visitors := func() uint64 {
		t.Helper()
		a, err := f.st.Aggregate(ctx, storage.Query{SiteID: f.siteA.ID, From: statsDay, To: statsDay.AddDate(0, 0, 1), View: storage.ViewHuman})
		if err != nil {
			t.Fatal(err)
		}
		return a.Current.Visitors
	}
	if n := visitors(); n != 2 {
		t.Fatalf("visitors before = %d, want 2", n)
	}

	for _, tc := range []struct {
		form url.Values
		says string
	}{
		{url.Values{"from": {"2026-03-10T16:00"}, "to": {"2026-03-10T14:00"}, "kind": {"country"}, "value": {"DE"}}, "the start must be before the end"},
		{url.Values{"from": {"yesterday"}, "to": {"2026-03-10T14:00"}, "kind": {"country"}, "value": {"DE"}}, "from: &#34;yesterday&#34; is not a time"},
		{url.Values{"from": {"2026-03-10T14:00"}, "to": {"2026-03-10T16:00"}, "kind": {"ip"}, "value": {"10.0.0.1"}}, "quarantine kind &#34;ip&#34;"},
		{url.Values{"from": {"2026-03-10T14:00"}, "to": {"2026-03-10T16:00"}, "kind": {"country"}, "value": {"Germany"}}, "Germany"},
	} {
		r := c.post(base+"/quarantines", tc.form)
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Nothing was quarantined: ") || !strings.Contains(r.body, tc.says) {
			t.Errorf("%v: %d, want 422 saying %q\n%s", tc.form, r.status, tc.says, excerpt(r.body))
		}
	}
	r := c.post(base+"/quarantines", url.Values{"from": {"2026-03-10T14:00"}, "to": {"2026-03-10T16:00"}, "kind": {"country"}, "value": {"de"}, "note": {"bot wave"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add: %d\n%s", r.status, excerpt(r.body))
	}
	qs, err := f.st.Quarantines(ctx, f.siteA.ID)
	if err != nil || len(qs) != 1 || qs[0].Value != "DE" || !qs[0].From.Equal(statsDay.Add(14*time.Hour)) || !qs[0].To.Equal(statsDay.Add(16*time.Hour)) ||
		qs[0].CreatedBy != actor(f.ownerA) || qs[0].Revoked {
		t.Fatalf("stored = %+v, %v", qs, err)
	}
	if n := visitors(); n != 1 {
		t.Errorf("visitors with the quarantine = %d, want 1", n)
	}
	page := c.get(base + "/rules?done=quarantine-added")
	if !strings.Contains(page.body, "Quarantined: ") || !strings.Contains(page.body, "2026-03-10 14:00:00") || !strings.Contains(page.body, "/revoke") {
		t.Errorf("page after adding:\n%s", excerpt(page.body))
	}
	// Another tenant's owner cannot revoke it; a viewer may not.
	revoke := base + "/quarantines/" + qs[0].ID.String() + "/revoke"
	if r := f.signedIn(f.ownerB).post(revoke, nil); r.status != http.StatusNotFound {
		t.Errorf("B's owner: %d, want 404", r.status)
	}
	if r := f.signedIn(f.viewerA).post(revoke, nil); r.status != http.StatusForbidden {
		t.Errorf("viewer: %d, want 403", r.status)
	}
	if r := c.post(revoke, nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	if r := c.post(revoke, nil); r.status != http.StatusSeeOther {
		t.Errorf("revoking again: %d, want 303", r.status)
	}
	if n := visitors(); n != 2 {
		t.Errorf("visitors after revoking = %d, want 2", n)
	}
	if page := c.get(base + "/rules"); !strings.Contains(page.body, "revoked") || strings.Contains(page.body, "/revoke") {
		t.Errorf("page after revoking:\n%s", excerpt(page.body))
	}
	detail := "site " + f.siteA.ID.String() + ": country DE from 2026-03-10T14:00:00Z to 2026-03-10T16:00:00Z (bot wave)"
	want := []string{"quarantine.add " + detail, "quarantine.revoke " + detail}
	if got := auditWith(t, f, f.tenantA.ID, "quarantine.", actor(f.ownerA)); !slices.Equal(got, want) {
		t.Errorf("audit = %q, want %q", got, want)
	}
}
