package storage_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// usageNow is 10 March 2026, 12:00 UTC: the last 30 days start on
// 8 February 12:00, the month on 1 March.
var usageNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// checkUsage stores events and rejections around the two windows' edges,
// on the site and on another site, and checks SiteUsage's counts.
func checkUsage(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	site := uuid.MustParse("00000000-0000-4000-8000-0000000000d1")
	other := uuid.MustParse("00000000-0000-4000-8000-0000000000d2")
	seq := 0
	at := func(s uuid.UUID, ts time.Time, verdict string) storage.Event {
		seq++
		e := testEvents(s, seq, 1)[0]
		e.TS, e.Verdict = ts, verdict
		return e
	}
	events := []storage.Event{
		at(site, usageNow, "ok"),                                    // both: now's second counts
		at(site, usageNow.Add(-time.Hour), "invalid"),               // both: every verdict counts
		at(site, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "ok"), // both: the month's first second
		at(site, time.Date(2026, 2, 28, 23, 59, 59, 0, time.UTC), "suspect"),
		at(site, time.Date(2026, 2, 8, 12, 0, 0, 0, time.UTC), "ok"),   // 30 days: the first second
		at(site, time.Date(2026, 2, 8, 11, 59, 59, 0, time.UTC), "ok"), // neither
		at(site, usageNow.Add(time.Second), "ok"),                      // neither: after now
		at(other, usageNow.Add(-time.Hour), "ok"),                      // another site
	}
	if err := st.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	rejections := []storage.Rejection{
		{SiteID: site, Minute: usageNow.Truncate(time.Minute), Reason: "origin_not_allowed", Count: 5},
		{SiteID: site, Minute: usageNow.Truncate(time.Minute), Reason: "replay", Count: 2},
		{SiteID: site, Minute: time.Date(2026, 2, 20, 8, 0, 0, 0, time.UTC), Reason: "replay", Count: 3},
		{SiteID: site, Minute: time.Date(2026, 1, 20, 8, 0, 0, 0, time.UTC), Reason: "replay", Count: 100}, // neither
		{SiteID: other, Minute: usageNow.Truncate(time.Minute), Reason: "replay", Count: 40},               // another site
	}
	if err := st.InsertRejections(ctx, rejections); err != nil {
		t.Fatal(err)
	}
	got, err := st.SiteUsage(ctx, site, usageNow)
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.Usage{Events30d: 5, EventsMonth: 3, Rejected30d: 10, RejectedMonth: 7}); got != want {
		t.Errorf("SiteUsage = %+v, want %+v", got, want)
	}
	// At the end of a 31-day month, the month reaches further back than
	// 30 days: 31 March 22:00 counts from 1 March 22:00 and from 1 March.
	got, err = st.SiteUsage(ctx, site, time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := (storage.Usage{Events30d: 3, EventsMonth: 4, Rejected30d: 7, RejectedMonth: 7}); got != want {
		t.Errorf("SiteUsage at the month's end = %+v, want %+v", got, want)
	}
	// A site with nothing stored has zeros.
	if got, err := st.SiteUsage(ctx, uuid.New(), usageNow); err != nil || got != (storage.Usage{}) {
		t.Errorf("SiteUsage of an empty site = %+v, %v", got, err)
	}
}

func TestSiteUsage(t *testing.T) { checkUsage(t, chtest.Store(t)) }

func TestUsageWindows(t *testing.T) {
	last30d, month, end := storage.UsageWindows(time.Date(2026, 3, 31, 23, 59, 59, 500, time.FixedZone("CEST", 2*3600)))
	want := []time.Time{time.Date(2026, 3, 1, 21, 59, 59, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 22, 0, 0, 0, time.UTC)}
	for i, got := range []time.Time{last30d, month, end} {
		if !got.Equal(want[i]) || got.Location() != time.UTC {
			t.Errorf("window %d = %v, want %v", i, got, want[i])
		}
	}
}

// Each usage query reads one site's rows: the placeholder after
// "site_id = " is bound to the site asked about.
func TestUsageQueriesBindTheSite(t *testing.T) {
	rec := &recorder{}
	site := uuid.MustParse("00000000-0000-4000-8000-0000000000d3")
	_, _ = storage.NewStoreOn(rec, storage.MinSupported).SiteUsage(context.Background(), site, usageNow)
	if len(rec.queries) != 2 {
		t.Fatalf("recorded %d queries, want 2", len(rec.queries))
	}
	from := regexp.MustCompile(`FROM (events|rejections) WHERE site_id = \?`)
	for _, r := range rec.queries {
		loc := from.FindStringIndex(r.sql)
		if loc == nil || strings.Count(r.sql, "FROM") != 1 {
			t.Errorf("not one read bound to a site:\n%s", r.sql)
			continue
		}
		if arg := strings.Count(r.sql[:loc[1]], "?") - 1; arg >= len(r.args) || r.args[arg] != site {
			t.Errorf("site_id is bound to argument %d of %v, not the site:\n%s", arg, r.args, r.sql)
		}
	}
}
