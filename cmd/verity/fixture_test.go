package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/fixture"
)

func TestFixtureCommand(t *testing.T) {
	c := newCLI(t)
	for _, bad := range [][]string{
		{"fixture"}, {"fixture", "--events", "-1"}, {"fixture", "--events", "10", "--sites", "0"},
		{"fixture", "--events", "10", "--site", "nope"}, {"fixture", "--events", "10", "--end", "yesterday"},
		{"fixture", "--events", "10", "--site", "00000000-0000-4000-8000-000000000001", "--sites", "2"},
	} {
		if _, _, err := c.run("", bad...); !isUsage(err) {
			t.Errorf("verity %s: %v, want a usage error", strings.Join(bad, " "), err)
		}
	}
	c.mustRun("", "migrate")
	args := []string{"fixture", "--events", "5001", "--sites", "3", "--end", "2026-03-31T00:00:00Z", "--days", "7"}
	stdout, stderr := c.mustRun("", args...)
	if !strings.Contains(stdout, "Wrote 5001 events (ingest = demo) over 7 days to 3 site(s)") || !strings.Contains(stderr, "5001 / 5001 events (100%)") {
		t.Fatalf("stdout %q\nstderr %q", stdout, stderr)
	}
	c.mustRun("", args...) // the same sites again: same rows, folded by event id
	st := c.store()
	ctx := context.Background()
	tenants, err := st.Tenants(ctx)
	if err != nil || len(tenants) != 1 || tenants[0].Name != "Fixture" {
		t.Fatalf("tenants %+v, %v", tenants, err)
	}
	sites, err := st.Sites(ctx, storage.SiteFilter{TenantID: tenants[0].ID})
	if err != nil || len(sites) != 3 {
		t.Fatalf("sites %+v, %v", sites, err)
	}
	var rows, distinct uint64
	for _, s := range sites {
		r, d, err := st.CountEvents(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if demo, err := st.CountIngest(ctx, s.ID, fixture.Ingest); err != nil || demo != r {
			t.Errorf("site %s: %d demo rows of %d, %v", s.Domain, demo, r, err)
		}
		rows, distinct = rows+r, distinct+d
	}
	if rows != 2*5001 || distinct != 5001 {
		t.Errorf("%d rows, %d distinct event ids; want 10002 and 5001 (a re-run repeats the same ids)", rows, distinct)
	}
	// --site writes into one existing site only.
	stdout, _ = c.mustRun("", "fixture", "--events", "100", "--site", sites[0].ID.String(), "--end", "2026-03-31T00:00:00Z")
	if !strings.Contains(stdout, "to 1 site(s)") || !strings.Contains(stdout, sites[0].ID.String()) {
		t.Errorf("--site: %q", stdout)
	}
	q := storage.Query{SiteID: sites[0].ID, From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), View: storage.ViewAll}
	if a, err := st.Aggregate(ctx, q); err != nil || a.Current.Pageviews == 0 {
		t.Errorf("aggregate of a fixture site: %+v, %v", a, err)
	}
}

// TestSeedDemoHistoryOnce: `verity dev` seeds the demo history on the first
// run only, and the live (browser) events beside it do not stop it.
func TestSeedDemoHistoryOnce(t *testing.T) {
	c := newCLI(t)
	c.mustRun("", "migrate")
	st := c.store()
	ctx := context.Background()
	site := storage.Site{ID: uuid.MustParse("00000000-0000-4000-8000-00000000de30"), Domain: demoDomain}
	live := storage.Event{SiteID: site.ID, TS: time.Now().UTC().Truncate(time.Second), EventID: 1, Type: "pageview", Verdict: "ok", Ingest: "browser"}
	if err := st.InsertEvents(ctx, []storage.Event{live}); err != nil {
		t.Fatal(err)
	}
	var steps []string
	step := func(f string, a ...any) { steps = append(steps, fmt.Sprintf(f, a...)) }
	now := time.Now()
	for run, want := range []int{demoHistoryEvents, 0} {
		n, err := seedDemoHistory(ctx, st, site, now, step)
		if err != nil || n != want {
			t.Fatalf("run %d: seeded %d, %v; want %d", run+1, n, err, want)
		}
	}
	rows, _, err := st.CountEvents(ctx, site.ID)
	if err != nil || rows != demoHistoryEvents+1 || len(steps) != 1 {
		t.Fatalf("%d rows (%v) after two runs, steps %q; want %d and one step", rows, err, steps, demoHistoryEvents+1)
	}
	q := storage.Query{SiteID: site.ID, From: now.AddDate(0, 0, -30), To: now.Add(time.Second), View: storage.ViewHuman}
	for _, d := range []storage.Dimension{storage.DimSource, storage.DimPage, storage.DimCountry, storage.DimBrowser, storage.DimEvent} {
		if b, err := st.Breakdown(ctx, q, d, 0); err != nil || len(b.Rows) < 3 {
			t.Errorf("demo history: %s breakdown %+v, %v; want a few rows", d, b.Rows, err)
		}
	}
}
