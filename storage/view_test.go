package storage_test

import (
	"context"
	"testing"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// wantTotals are the totals of qualityFixture per view: three ok
// pageviews, one suspect and three invalid (one visitor, one session).
var wantTotals = map[storage.View]storage.Totals{
	storage.ViewHuman:      {Pageviews: 3, Visitors: 1, Visits: 1, Events: 3},
	storage.ViewAll:        {Pageviews: 7, Visitors: 1, Visits: 1, Events: 7},
	storage.ViewSuspicious: {Pageviews: 4, Visitors: 1, Visits: 1, Events: 4},
}

func checkTotals(t *testing.T, st *storage.Store) {
	t.Helper()
	site, from, to := qualityFixture(t, st)
	for view, want := range wantTotals {
		got, err := st.Totals(context.Background(), site, from, to, view)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("Totals(%s) = %+v, want %+v", view, got, want)
		}
	}
}

func TestTotalsPerView(t *testing.T) { checkTotals(t, chtest.Store(t)) }

func TestParseView(t *testing.T) {
	for in, want := range map[string]storage.View{"": storage.ViewHuman, "human": storage.ViewHuman, "all": storage.ViewAll, "suspicious": storage.ViewSuspicious} {
		if got, err := storage.ParseView(in); err != nil || got != want {
			t.Errorf("ParseView(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := storage.ParseView("1=1 OR verdict"); err == nil {
		t.Error("ParseView accepted an unknown view")
	}
}
