package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/storage"
)

// parseWithArgs parses flags that may come before, between or after the
// positional arguments (the flag package stops at the first of those) and
// returns exactly the positional arguments named in want.
func parseWithArgs(fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil
			}
			return nil, usageError{msg: err.Error()}
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != len(want) {
		return nil, usagef("%s: want %s, got %d argument(s)", fs.Name(), strings.Join(want, " and "), len(pos))
	}
	return pos, nil
}

// parseID reads a site, rule or quarantine id given as an argument.
func parseID(cmd, what, s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, usagef("%s: %s %q is not an id (a UUID such as 5e000000-0000-4000-8000-0000000000a1)", cmd, what, s)
	}
	return id, nil
}

// actor names who acts in the audit log: the CLI and, when known, the
// operating-system user running it.
func actor(e env) string {
	if u := e.getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

// openSite loads the configuration, connects and finds the site, which the
// audit entry needs for its tenant.
func openSite(ctx context.Context, e env, fs *flag.FlagSet, siteID uuid.UUID) (*storage.Store, storage.Site, error) {
	_, st, err := openConfigured(ctx, e, fs)
	if err != nil {
		return nil, storage.Site{}, err
	}
	site, err := st.SiteByID(ctx, siteID)
	if err != nil {
		st.Close()
		if errors.Is(err, storage.ErrNotFound) {
			return nil, storage.Site{}, fmt.Errorf("no site %s (see `verity site list`)", siteID)
		}
		return nil, storage.Site{}, err
	}
	return st, site, nil
}

type ruleOut struct {
	ID        string    `json:"rule_id"`
	SiteID    string    `json:"site_id"`
	Action    string    `json:"action"`
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	Note      string    `json:"note"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func ruleJSON(r storage.SiteRule) ruleOut {
	return ruleOut{ID: r.ID.String(), SiteID: r.SiteID.String(), Action: r.Action, Kind: r.Kind, Value: r.Value,
		Note: r.Note, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
}

func cmdSiteRuleAdd(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "site rule add", "SITE_ID --action allow|deny --kind cidr|asn|country|ua|path --value VALUE [--note TEXT] [--json]\n\n"+
		"Adds a rule that overrides the fraud score of the site's new events (see docs/abuse.md): deny makes them invalid,\n"+
		"allow counts them; deny wins when both match. Values: cidr 203.0.113.0/24, asn 16509 or AS16509, country DE,\n"+
		"ua a part of the User-Agent (any case), path /exact or /prefix/*. Collectors apply it within their refresh interval;\n"+
		"for events already stored, use `verity quarantine add`.")
	action := fs.String("action", "", "allow or deny (required)")
	kind := fs.String("kind", "", "cidr, asn, country, ua or path (required)")
	value := fs.String("value", "", "what to match (required)")
	note := fs.String("note", "", "why, for whoever reads the rule list later")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	pos, err := parseWithArgs(fs, args, "SITE_ID")
	if err != nil || helpAsked(args) {
		return err
	}
	siteID, err := parseID("site rule add", "site", pos[0])
	if err != nil {
		return err
	}
	if _, err := abuse.ParseRule(*action, *kind, *value); err != nil {
		return usagef("site rule add: %v", err)
	}
	st, site, err := openSite(ctx, e, fs, siteID)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.PutRule(ctx, storage.SiteRule{SiteID: siteID, Action: *action, Kind: *kind, Value: *value, Note: *note, CreatedBy: actor(e)})
	if err != nil {
		return err
	}
	if err := st.Audit(ctx, storage.AuditEntry{TenantID: site.TenantID, Actor: r.CreatedBy, Action: "rule.add", Target: r.ID.String(),
		Detail: "site " + siteID.String() + ": " + r.Describe()}); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, ruleJSON(r))
	}
	fmt.Fprintf(e.stdout, "Added rule %s to %s: %s\n", r.ID, site.Domain, r.Describe())
	fmt.Fprintln(e.stdout, "Collectors apply it to new events within their refresh interval; stored events are not changed (see `verity quarantine add`).")
	return nil
}

func cmdSiteRuleList(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "site rule list", "SITE_ID [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	pos, err := parseWithArgs(fs, args, "SITE_ID")
	if err != nil || helpAsked(args) {
		return err
	}
	siteID, err := parseID("site rule list", "site", pos[0])
	if err != nil {
		return err
	}
	st, site, err := openSite(ctx, e, fs, siteID)
	if err != nil {
		return err
	}
	defer st.Close()
	rules, err := st.Rules(ctx, siteID)
	if err != nil {
		return err
	}
	if *asJSON {
		out := []ruleOut{}
		for _, r := range rules {
			out = append(out, ruleJSON(r))
		}
		return printJSON(e.stdout, out)
	}
	if len(rules) == 0 {
		fmt.Fprintf(e.stdout, "No rules for %s. Add one with: verity site rule add %s --action deny --kind asn --value 16509\n", site.Domain, siteID)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE ID\tACTION\tKIND\tVALUE\tCREATED\tBY\tNOTE")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Action, r.Kind, r.Value, r.CreatedAt.Format(time.DateOnly), r.CreatedBy, r.Note)
	}
	return tw.Flush()
}

func cmdSiteRuleRemove(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "site rule remove", "SITE_ID RULE_ID [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	config.Flags(fs)
	pos, err := parseWithArgs(fs, args, "SITE_ID", "RULE_ID")
	if err != nil || helpAsked(args) {
		return err
	}
	siteID, err := parseID("site rule remove", "site", pos[0])
	if err != nil {
		return err
	}
	ruleID, err := parseID("site rule remove", "rule", pos[1])
	if err != nil {
		return err
	}
	st, site, err := openSite(ctx, e, fs, siteID)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.DeleteRule(ctx, siteID, ruleID)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("site %s has no rule %s (see `verity site rule list %s`)", siteID, ruleID, siteID)
	} else if err != nil {
		return err
	}
	if err := st.Audit(ctx, storage.AuditEntry{TenantID: site.TenantID, Actor: actor(e), Action: "rule.remove", Target: r.ID.String(),
		Detail: "site " + siteID.String() + ": " + r.Describe()}); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, ruleJSON(r))
	}
	fmt.Fprintf(e.stdout, "Removed rule %s from %s: %s\n", r.ID, site.Domain, r.Describe())
	return nil
}
