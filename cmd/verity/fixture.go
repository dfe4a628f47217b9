package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/fixture"
)

// fixtureTenant owns the sites `verity fixture` creates.
const fixtureTenant = "Fixture"

func cmdFixture(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "fixture", "--events N [--sites S | --site ID] [--days 30] [--seed 1] [--end RFC3339]\n\n"+
		"Writes N generated events (ingest = demo) spread evenly over S sites of the tenant \""+fixtureTenant+"\"\n"+
		"(created with the sites fixture-1.localhost ... when missing), or into one existing site.")
	events := fs.Int("events", 0, "events to write in all (required)")
	sites := fs.Int("sites", 1, "how many fixture sites to spread them over")
	siteFlag := fs.String("site", "", "write into this existing site instead")
	days := fs.Int("days", 30, "days of history, ending at --end")
	seed := fs.Uint64("seed", 1, "generator seed: the same seed, sites and end give the same rows")
	endFlag := fs.String("end", "", "end of the history (RFC 3339; default now)")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	if *events < 1 || *events > 1_000_000_000 {
		return usagef("fixture: --events must be 1 to 1,000,000,000")
	}
	if *sites < 1 || *sites > 10_000 {
		return usagef("fixture: --sites must be 1 to 10,000")
	}
	if *days < 1 || *days > 3650 {
		return usagef("fixture: --days must be 1 to 3650")
	}
	end := time.Now().UTC().Truncate(time.Second)
	if *endFlag != "" {
		t, err := time.Parse(time.RFC3339, *endFlag)
		if err != nil {
			return usagef("fixture: --end %q is not an RFC 3339 time (2026-03-31T00:00:00Z)", *endFlag)
		}
		end = t.UTC()
	}
	var target uuid.UUID
	if *siteFlag != "" {
		id, err := uuid.Parse(*siteFlag)
		if err != nil {
			return usagef("fixture: --site %q is not a site id", *siteFlag)
		}
		if fs.Lookup("sites").Value.String() != "1" {
			return usagef("fixture: --site and --sites exclude each other")
		}
		target = id
	}
	cfg, st, err := openConfigured(ctx, e, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	var targets []storage.Site
	if target != uuid.Nil {
		found, err := st.Sites(ctx, storage.SiteFilter{SiteID: target})
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return fmt.Errorf("fixture: no site %s", target)
		}
		targets = found
	} else if targets, err = fixtureSites(ctx, st, cfg, *sites); err != nil {
		return err
	}

	start := time.Now()
	progress := newProgress(e.stderr, *events)
	done := 0
	for i, s := range targets {
		n := *events / len(targets)
		if i < *events%len(targets) {
			n++
		}
		fc := fixture.Config{Events: n, Days: *days, End: end, Seed: *seed, Domain: s.Domain}
		if err := fixture.Write(ctx, st, s.ID, fc, func(w int) { progress(done + w) }); err != nil {
			return fmt.Errorf("fixture: site %s: %w", s.ID, err)
		}
		done += n
	}
	elapsed := time.Since(start)
	fmt.Fprintln(e.stderr)
	fmt.Fprintf(e.stdout, "Wrote %d events (ingest = demo) over %d days to %d site(s) in %s: %.0f rows/s\n",
		*events, *days, len(targets), elapsed.Round(time.Millisecond), float64(*events)/elapsed.Seconds())
	if len(targets) <= 5 {
		for _, s := range targets {
			fmt.Fprintf(e.stdout, "  site %s  %s\n", s.ID, s.Domain)
		}
	} else {
		fmt.Fprintf(e.stdout, "  sites: verity site list --tenant %s\n", targets[0].TenantID)
	}
	return nil
}

// fixtureSites finds or creates the tenant "Fixture" and its sites
// fixture-1.localhost ... fixture-n.localhost.
func fixtureSites(ctx context.Context, st *storage.Store, cfg config.Config, n int) ([]storage.Site, error) {
	tenants, err := st.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	var tenant storage.Tenant
	for _, t := range tenants {
		if t.Name == fixtureTenant {
			tenant = t
		}
	}
	if tenant.Name == "" {
		if tenant, err = st.CreateTenant(ctx, fixtureTenant); err != nil {
			return nil, err
		}
	}
	existing, err := st.Sites(ctx, storage.SiteFilter{TenantID: tenant.ID})
	if err != nil {
		return nil, err
	}
	byDomain := map[string]storage.Site{}
	for _, s := range existing {
		byDomain[s.Domain] = s
	}
	keys, err := keyring(cfg)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Site, 0, n)
	for i := 1; i <= n; i++ {
		domain := fmt.Sprintf("fixture-%d.localhost", i)
		s, ok := byDomain[domain]
		if !ok {
			if s, _, err = createSite(ctx, st, keys, tenant.ID, strings.TrimSuffix(domain, ".localhost"), domain, []string{"http://" + domain}); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// newProgress returns a function that prints "written / total, rows/s" on
// one line, at most every half second.
func newProgress(w io.Writer, total int) func(written int) {
	start, last := time.Now(), time.Time{}
	return func(written int) {
		if time.Since(last) < 500*time.Millisecond && written < total {
			return
		}
		last = time.Now()
		fmt.Fprintf(w, "\r  %d / %d events (%.0f%%), %.0f rows/s   ", written, total,
			100*float64(written)/float64(total), float64(written)/time.Since(start).Seconds())
	}
}
