package storage_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// qualityFixture stores a known mix of verdicts, reasons and rejections for
// a site in March 2026, plus noise outside the period and on another site.
func qualityFixture(t *testing.T, st *storage.Store) (site uuid.UUID, from, to time.Time) {
	t.Helper()
	site = uuid.MustParse("00000000-0000-4000-8000-0000000000c1")
	other := uuid.MustParse("00000000-0000-4000-8000-0000000000c2")
	from, to = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	mk := func(s uuid.UUID, i int, ts time.Time, verdict, class string, reasons ...string) storage.Event {
		e := testEvents(s, i, 1)[0]
		e.TS, e.Verdict, e.Class, e.Reasons = ts, verdict, class, reasons
		return e
	}
	mid := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	events := []storage.Event{
		mk(site, 1, mid, "ok", ""),
		mk(site, 2, mid, "ok", "", "ip_prefix_changed"),
		mk(site, 3, mid, "ok", ""),
		mk(site, 4, mid, "suspect", "", "ua_client_hints_mismatch"),
		mk(site, 5, mid, "invalid", "givt_declared_crawler", "declared_bot"),
		mk(site, 6, mid, "invalid", "givt_declared_crawler", "declared_bot"),
		mk(site, 7, mid, "invalid", "sivt_automation", "webdriver", "headless_ua"),
		mk(site, 8, to, "invalid", "sivt_automation", "webdriver"),   // after the period
		mk(other, 9, mid, "invalid", "sivt_automation", "webdriver"), // another site
		mk(site, 10, from.Add(-time.Second), "ok", ""),               // before the period
	}
	if err := st.InsertEvents(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	rejections := []storage.Rejection{
		{SiteID: site, Minute: mid, Reason: "origin_not_allowed", Count: 5},
		{SiteID: site, Minute: mid, Reason: "origin_not_allowed", Count: 2}, // summed
		{SiteID: site, Minute: mid, Reason: "replay", Count: 1},
		{SiteID: site, Minute: to, Reason: "replay", Count: 9},   // after
		{SiteID: other, Minute: mid, Reason: "replay", Count: 9}, // other site
	}
	if err := st.InsertRejections(context.Background(), rejections); err != nil {
		t.Fatal(err)
	}
	return site, from, to
}

var wantQuality = storage.QualityReport{
	Events: map[string]uint64{"ok": 3, "suspect": 1, "invalid": 3},
	Reasons: []storage.ReasonCount{
		{Verdict: "invalid", Class: "givt_declared_crawler", Reason: "declared_bot", Count: 2},
		{Verdict: "invalid", Class: "sivt_automation", Reason: "headless_ua", Count: 1},
		{Verdict: "invalid", Class: "sivt_automation", Reason: "webdriver", Count: 1},
		{Verdict: "suspect", Class: "", Reason: "ua_client_hints_mismatch", Count: 1},
	},
	Rejected: []storage.ReasonCount{
		{Reason: "origin_not_allowed", Count: 7},
		{Reason: "replay", Count: 1},
	},
}

func TestTrafficQuality(t *testing.T) {
	st := chtest.Store(t)
	site, from, to := qualityFixture(t, st)
	got, err := st.TrafficQuality(context.Background(), site, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantQuality) {
		t.Fatalf("TrafficQuality =\n%+v\nwant\n%+v", got, wantQuality)
	}
}
