package dashboard

import (
	"testing"
	"time"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

func TestPeriodLabel(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		q    storage.Query
		want string
	}{
		{storage.Query{Period: storage.Period30d}, "Last 30 days"},
		{storage.Query{Period: storage.PeriodMTD}, "Month to date"},
		{storage.Query{Period: storage.PeriodCustom, From: day(3, 1), To: day(4, 1)}, "1 Mar 2026 – 31 Mar 2026"},
		{storage.Query{Period: storage.PeriodCustom, From: day(3, 1), To: day(3, 2)}, "1 Mar 2026"},
	} {
		if got := periodLabel(tc.q); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.q.Period, got, tc.want)
		}
	}
}

func TestHeadlineChanges(t *testing.T) {
	cur := storage.Metrics{Visitors: 150, Visits: 200, Pageviews: 300, ViewsPerVisit: 1.5, BounceRate: 0.4, VisitDuration: 95 * time.Second}
	prev := storage.Metrics{Visitors: 200, Visits: 200, Pageviews: 0, ViewsPerVisit: 1.5, BounceRate: 0.5, VisitDuration: 3700 * time.Second}
	got := headline(storage.Aggregate{Current: cur, Previous: &prev})
	want := []views.Stat{
		{Label: "Unique visitors", Value: "150", Previous: "200", Change: "−25%", Trend: "down"},
		{Label: "Visits", Value: "200", Previous: "200", Change: "±0%", Trend: "flat"},
		{Label: "Pageviews", Value: "300", Previous: "0", Change: "new", Trend: "up", Good: true},
		{Label: "Views per visit", Value: "1.50", Previous: "1.50", Change: "±0%", Trend: "flat"},
		{Label: "Bounce rate", Value: "40%", Previous: "50%", Change: "−10 pts", Trend: "down", Good: true},
		{Label: "Visit duration", Value: "1m 35s", Previous: "1h 01m", Change: "−97%", Trend: "down"},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: %+v, want %+v", want[i].Label, got[i], want[i])
		}
	}
	// Without a previous period every number is new.
	if s := headline(storage.Aggregate{Current: cur})[0]; s.Change != "new" || !s.Good {
		t.Errorf("no previous period: %+v", s)
	}
}

func TestFormatPercent(t *testing.T) {
	for in, want := range map[float64]string{0: "0%", 0.05: "5.0%", 0.123: "12%", 1: "100%", 0.0004: "0.0%"} {
		if got := formatPercent(in); got != want {
			t.Errorf("formatPercent(%v) = %q, want %q", in, got, want)
		}
	}
}
