package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/storage"
)

// parseWhen reads a quarantine bound: RFC 3339 ("2026-03-10T14:00:00Z",
// "2026-03-10T16:00:00+02:00"), "2026-03-10 14:00[:05]" or "2026-03-10"
// in UTC, or "now".
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now.UTC().Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{time.DateTime, "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want 2026-03-10, \"2026-03-10 14:00\" (UTC), 2026-03-10T14:00:00+02:00 or now", s)
}

type quarantineOut struct {
	ID        string    `json:"quarantine_id"`
	SiteID    string    `json:"site_id"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Note      string    `json:"note"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked"`
}

func quarantineJSON(q storage.Quarantine) quarantineOut {
	return quarantineOut{ID: q.ID.String(), SiteID: q.SiteID.String(), From: q.From, To: q.To, Kind: string(q.Kind), Value: q.Value,
		Note: q.Note, CreatedBy: q.CreatedBy, CreatedAt: q.CreatedAt, Revoked: q.Revoked}
}

func quarantineKinds() string {
	names := make([]string, len(storage.QuarantineKinds))
	for i, k := range storage.QuarantineKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func cmdQuarantineAdd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "quarantine add", "SITE_ID --from TIME --to TIME --kind KIND --value VALUE [--note TEXT] [--json]\n\n"+
		"Marks the site's stored events with from <= time < to that match the value as invalid, after the fact: statistics\n"+
		"count them as invalid (class givt_activity_list, reason quarantine) until the quarantine is revoked. Nothing is\n"+
		"deleted. Kinds: "+quarantineKinds()+". Raw IP addresses are never stored, so a network (CIDR)\n"+
		"cannot be quarantined; use its ASN. Times: 2026-03-10, \"2026-03-10 14:00\" (UTC), RFC 3339, or now.")
	from := fs.String("from", "", "start of the window, included (required)")
	to := fs.String("to", "", "end of the window, excluded (required)")
	kind := fs.String("kind", "", "what to match: "+quarantineKinds()+" (required)")
	value := fs.String("value", "", "the value to match (required)")
	note := fs.String("note", "", "why, for whoever reads the list later")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	pos, err := parseWithArgs(fs, args, "SITE_ID")
	if err != nil || helpAsked(args) {
		return err
	}
	siteID, err := parseID("quarantine add", "site", pos[0])
	if err != nil {
		return err
	}
	now := time.Now()
	fromT, err := parseWhen(*from, now)
	if err != nil {
		return usagef("quarantine add: --from %v", err)
	}
	toT, err := parseWhen(*to, now)
	if err != nil {
		return usagef("quarantine add: --to %v", err)
	}
	if !fromT.Before(toT) {
		return usagef("quarantine add: --from %s is not before --to %s", fromT.Format(time.RFC3339), toT.Format(time.RFC3339))
	}
	if _, _, err := storage.ParseQuarantineMatch(*kind, *value); err != nil {
		return usagef("quarantine add: %v", err)
	}
	st, site, err := openSite(ctx, e, fs, siteID)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := st.PutQuarantine(ctx, storage.Quarantine{SiteID: siteID, From: fromT, To: toT, Kind: storage.QuarantineKind(*kind), Value: *value,
		Note: *note, CreatedBy: actor(e)})
	if err != nil {
		return err
	}
	if err := st.Audit(ctx, storage.AuditEntry{TenantID: site.TenantID, Actor: q.CreatedBy, Action: "quarantine.add", Target: q.ID.String(),
		Detail: "site " + siteID.String() + ": " + q.Describe()}); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, quarantineJSON(q))
	}
	fmt.Fprintf(e.stdout, "Quarantined on %s: %s\n  quarantine id: %s\n", site.Domain, q.Describe(), q.ID)
	fmt.Fprintf(e.stdout, "Statistics now count those events as invalid. Undo with: verity quarantine revoke %s %s\n", siteID, q.ID)
	return nil
}

func cmdQuarantineList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "quarantine list", "SITE_ID [--json]\n\nLists the site's quarantines, revoked ones included.")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	pos, err := parseWithArgs(fs, args, "SITE_ID")
	if err != nil || helpAsked(args) {
		return err
	}
	siteID, err := parseID("quarantine list", "site", pos[0])
	if err != nil {
		return err
	}
	st, site, err := openSite(ctx, e, fs, siteID)
	if err != nil {
		return err
	}
	defer st.Close()
	qs, err := st.Quarantines(ctx, siteID)
	if err != nil {
		return err
	}
	if *asJSON {
		out := []quarantineOut{}
		for _, q := range qs {
			out = append(out, quarantineJSON(q))
		}
		return printJSON(e.stdout, out)
	}
	if len(qs) == 0 {
		fmt.Fprintf(e.stdout, "No quarantines for %s.\n", site.Domain)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "QUARANTINE ID\tSTATE\tFROM\tTO\tKIND\tVALUE\tBY\tNOTE")
	for _, q := range qs {
		state := "active"
		if q.Revoked {
			state = "revoked"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", q.ID, state, q.From.Format(time.DateTime), q.To.Format(time.DateTime), q.Kind, q.Value, q.CreatedBy, q.Note)
	}
	return tw.Flush()
}

func cmdQuarantineRevoke(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "quarantine revoke", "SITE_ID QUARANTINE_ID [--json]\n\nStatistics count the quarantined events as they were scored again.")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	pos, err := parseWithArgs(fs, args, "SITE_ID", "QUARANTINE_ID")
	if err != nil || helpAsked(args) {
		return err
	}
	siteID, err := parseID("quarantine revoke", "site", pos[0])
	if err != nil {
		return err
	}
	id, err := parseID("quarantine revoke", "quarantine", pos[1])
	if err != nil {
		return err
	}
	st, site, err := openSite(ctx, e, fs, siteID)
	if err != nil {
		return err
	}
	defer st.Close()
	q, err := st.RevokeQuarantine(ctx, siteID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("site %s has no quarantine %s (see `verity quarantine list %s`)", siteID, id, siteID)
	case errors.Is(err, storage.ErrRevoked):
		return fmt.Errorf("quarantine %s is already revoked", id)
	case err != nil:
		return err
	}
	if err := st.Audit(ctx, storage.AuditEntry{TenantID: site.TenantID, Actor: actor(e), Action: "quarantine.revoke", Target: q.ID.String(),
		Detail: "site " + siteID.String() + ": " + q.Describe()}); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, quarantineJSON(q))
	}
	fmt.Fprintf(e.stdout, "Revoked quarantine %s on %s: %s\nThose events count as they were scored again.\n", q.ID, site.Domain, q.Describe())
	return nil
}
