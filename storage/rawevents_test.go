package storage_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestRawEvents(t *testing.T) { checkRawEvents(t, chtest.Store(t)) }

// checkRawEvents exports the statistics fixture and compares it with the
// fixture's own events picked in Go: the same rows, oldest first, only the
// site's, the view, filters and quarantines applied.
func checkRawEvents(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	events := statsEvents()
	if err := st.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}
	// Quarantine Berlin's visit (country DE) for the all-view flags and
	// the human view.
	if _, err := st.PutQuarantine(ctx, storage.Quarantine{SiteID: statsSite, From: statsFrom, To: statsTo, Kind: storage.QuarantineCountry, Value: "DE"}); err != nil {
		t.Fatal(err)
	}
	inPeriod := func(e storage.Event) bool {
		return e.SiteID == statsSite && !e.TS.Before(statsFrom) && e.TS.Before(statsTo)
	}
	for _, tc := range []struct {
		name string
		view storage.View
		f    []string
		want func(storage.Event) bool
	}{
		{"all", storage.ViewAll, nil, inPeriod},
		{"human", storage.ViewHuman, nil, func(e storage.Event) bool { return inPeriod(e) && e.Verdict == "ok" && e.Country != "DE" }},
		{"suspicious", storage.ViewSuspicious, nil, func(e storage.Event) bool { return inPeriod(e) && (e.Verdict != "ok" || e.Country == "DE") }},
		{"human, country FR", storage.ViewHuman, []string{"country:FR"}, func(e storage.Event) bool { return inPeriod(e) && e.Verdict == "ok" && e.Country == "FR" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := statsQuery(tc.f...)
			q.View = tc.view
			var want []uint64
			for _, e := range events {
				if tc.want(e) {
					want = append(want, e.EventID)
				}
			}
			var got []uint64
			var last time.Time
			err := st.RawEvents(ctx, q, func(e *storage.RawEvent) error {
				if e.SiteID != statsSite || e.TS.Before(last) || e.Quarantined != (e.Country == "DE") {
					t.Errorf("event %d: site %s, at %s after %s, quarantined %v (country %s)", e.EventID, e.SiteID, e.TS, last, e.Quarantined, e.Country)
				}
				last = e.TS
				got = append(got, e.EventID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			n, err := st.CountRawEvents(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(want)
			sorted := slices.Sorted(slices.Values(got))
			if len(want) == 0 || !slices.Equal(sorted, want) || n != uint64(len(want)) {
				t.Errorf("exported %v (count %d), want %v", sorted, n, want)
			}
		})
	}
}

// TestRawEventsBindTheSite: every read of the export, the day chunks and
// the visit filters' subqueries included, is bound to the query's site.
func TestRawEventsBindTheSite(t *testing.T) {
	rec := &recorder{}
	st := storage.NewStoreOn(rec, storage.MinSupported)
	q := statsQuery("source:Google", "!page:/blog/*", "event:signup")
	q.View = storage.ViewAll
	if err := st.RawEvents(context.Background(), q, func(*storage.RawEvent) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CountRawEvents(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	days := int(q.To.Sub(q.From).Hours() / 24)
	reads := 0
	for _, r := range rec.queries {
		if slices.Contains(r.args, any(q.SiteID)) {
			reads++
		}
		n := 0
		for _, a := range r.args {
			if a == any(q.SiteID) {
				n++
			}
		}
		if want := strings.Count(r.sql, "site_id = ?"); n != want {
			t.Errorf("%d site_id placeholders, %d bound to the site:\n%s", want, n, r.sql)
		}
	}
	if reads < days+2 {
		t.Errorf("%d reads for %d days", reads, days)
	}
}
