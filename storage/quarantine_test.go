package storage_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// The quarantine fixture: site qSite's events in March 2026, a window qFrom
// to qTo (10 March, UTC), and another site's event that matches everything.
var (
	qSite  = uuid.MustParse("00000000-0000-4000-8000-0000000000e1")
	qOther = uuid.MustParse("00000000-0000-4000-8000-0000000000e2")
	qFrom  = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	qTo    = time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)
	qMarch = [2]time.Time{time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
)

// qEvent is one fixture event; its id is its index in qEvents.
type qEvent struct {
	ts                                                  time.Time
	verdict, class, reason                              string
	asn                                                 uint32
	country, path, source, referrer, browser, utmSource string
}

var qMid = qFrom.Add(12 * time.Hour)

var qEvents = []qEvent{
	0:  {qMid, "ok", "", "", 16509, "US", "/pricing", "Google", "https://www.google.com/", "Chrome", ""},
	1:  {qMid, "suspect", "", "datacenter", 16509, "US", "/admin/users", "Direct / None", "", "Chrome", ""},
	2:  {qMid, "invalid", "givt_declared_crawler", "declared_bot", 16509, "US", "/", "Direct / None", "", "Other", ""},
	3:  {qMid, "ok", "", "", 3320, "DE", "/blog/post", "Reddit", "https://old.reddit.com/r/x", "Firefox", "newsletter"},
	4:  {qFrom.Add(-time.Second), "ok", "", "", 16509, "US", "/pricing", "Google", "https://www.google.com/", "Chrome", ""}, // just before
	5:  {qTo, "ok", "", "", 16509, "US", "/pricing", "Google", "https://www.google.com/", "Chrome", ""},                     // the end is excluded
	6:  {qFrom, "ok", "", "", 16509, "US", "/pricing", "Google", "https://www.google.com/", "Chrome", ""},                   // the start is included
	7:  {qMid, "ok", "", "", 0, "", "/blogroll", "Reddit", "https://reddit.com/", "Safari", "NewsLetter"},
	8:  {qMid, "ok", "", "", 24940, "FR", "/admin", "ChatGPT", "https://chatgpt.com/", "Chrome", ""},
	9:  {qMid, "ok", "", "", 3209, "DE", "/admin-panel", "Referral", "https://notreddit.com/", "Edge", "x' OR 1=1 --"},
	10: {qMid, "suspect", "", "vpn", 3209, "NL", "/it's", "it's \"quoted\"", "https://a.b.example/", "Chrome", ""},
}

// qFixture stores qEvents for qSite and, on qOther, a copy of event 0.
func qFixture(t *testing.T, st *storage.Store) {
	t.Helper()
	var events []storage.Event
	for i, f := range qEvents {
		e := testEvents(qSite, 1000+i, 1)[0]
		e.TS, e.Verdict, e.Class, e.ASN, e.Country, e.Pathname = f.ts, f.verdict, f.class, f.asn, f.country, f.path
		e.Source, e.Referrer, e.Browser, e.UTMSource = f.source, f.referrer, f.browser, f.utmSource
		e.VisitorID, e.SessionID = uint64(100+i), uint64(200+i)
		e.PageLoadID = uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", 1000+i))
		e.Reasons = nil
		if f.reason != "" {
			e.Reasons = []string{f.reason}
		}
		events = append(events, e)
	}
	o := events[0]
	o.SiteID, o.EventID = qOther, 42
	events = append(events, o)
	if err := st.InsertEvents(context.Background(), events); err != nil {
		t.Fatal(err)
	}
}

// wantAfter computes what the views and the quality report must say when
// exactly the events quarantined (indexes into qEvents) are quarantined.
func wantAfter(quarantined []int) (map[storage.View]storage.Totals, storage.QualityReport) {
	totals := map[storage.View]storage.Totals{}
	report := storage.QualityReport{Events: map[string]uint64{}, Reasons: []storage.ReasonCount{}, Rejected: []storage.ReasonCount{}}
	reasons := map[storage.ReasonCount]uint64{}
	for i, e := range qEvents {
		verdict, class, reason := e.verdict, e.class, e.reason
		if slices.Contains(quarantined, i) {
			verdict, class, reason = "invalid", abuse.ClassActivityList, storage.ReasonQuarantine
		}
		report.Events[verdict]++
		if verdict != "ok" && reason != "" {
			reasons[storage.ReasonCount{Verdict: verdict, Class: class, Reason: reason}]++
		}
		for _, view := range []storage.View{storage.ViewAll, storage.ViewHuman, storage.ViewSuspicious} {
			if view == storage.ViewHuman && verdict != "ok" || view == storage.ViewSuspicious && verdict == "ok" {
				continue
			}
			// One pageview per visitor and session.
			tot := totals[view]
			tot.Pageviews++
			tot.Visitors++
			tot.Visits++
			tot.Events++
			totals[view] = tot
		}
	}
	for rc, n := range reasons {
		rc.Count = n
		report.Reasons = append(report.Reasons, rc)
	}
	slices.SortFunc(report.Reasons, func(a, b storage.ReasonCount) int {
		if a.Count != b.Count {
			return int(b.Count) - int(a.Count)
		}
		return strings.Compare(a.Verdict+"\x00"+a.Class+"\x00"+a.Reason, b.Verdict+"\x00"+b.Class+"\x00"+b.Reason)
	})
	return totals, report
}

// checkCounts compares Totals in every view and TrafficQuality for March
// with what quarantining exactly the given events implies.
func checkCounts(t *testing.T, st *storage.Store, label string, quarantined []int) {
	t.Helper()
	ctx := context.Background()
	wantTotals, wantReport := wantAfter(quarantined)
	for _, view := range []storage.View{storage.ViewHuman, storage.ViewAll, storage.ViewSuspicious} {
		got, err := st.Totals(ctx, qSite, qMarch[0], qMarch[1], view)
		if err != nil {
			t.Fatalf("%s: Totals(%s): %v", label, view, err)
		}
		if got != wantTotals[view] {
			t.Errorf("%s: Totals(%s) = %+v, want %+v", label, view, got, wantTotals[view])
		}
		// The dashboard's statistics apply quarantines the same way.
		agg, err := st.Aggregate(ctx, storage.Query{SiteID: qSite, Period: storage.PeriodCustom, From: qMarch[0], To: qMarch[1], View: view, Compare: true})
		if err != nil {
			t.Fatalf("%s: Aggregate(%s): %v", label, view, err)
		}
		w := wantTotals[view]
		if agg.Current.Pageviews != w.Pageviews || agg.Current.Visitors != w.Visitors || agg.Current.Visits != w.Visits {
			t.Errorf("%s: Aggregate(%s) = %+v, want the pageviews, visitors and visits of %+v", label, view, agg.Current, w)
		}
	}
	got, err := st.TrafficQuality(ctx, qSite, qMarch[0], qMarch[1])
	if err != nil {
		t.Fatalf("%s: TrafficQuality: %v", label, err)
	}
	if !reflect.DeepEqual(got, wantReport) {
		t.Errorf("%s: TrafficQuality =\n%+v\nwant\n%+v", label, got, wantReport)
	}
}

func TestQuarantines(t *testing.T) { checkQuarantines(t, chtest.Store(t)) }

// checkQuarantines puts each kind of quarantine on the fixture, alone, and
// requires that exactly the matching events inside the window stop
// counting, then that revoking restores the numbers. Run on both engines
// (see TestQuarantinesChDB).
func checkQuarantines(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	qFixture(t, st)
	checkCounts(t, st, "no quarantine", nil)

	cases := []struct {
		kind, value string
		want        []int // quarantined events
	}{
		{"asn", "AS16509", []int{0, 1, 2, 6}}, // not 4 (before), 5 (at the end), nor the other site's
		{"country", "de", []int{3, 9}},
		{"path", "/pricing", []int{0, 6}},
		{"path", "/admin/*", []int{1}}, // not /admin itself, nor /admin-panel
		{"path", "/blog*", []int{3, 7}},
		{"source", "google", []int{0, 6}},
		{"referrer_domain", "Reddit.com", []int{3, 7}}, // old.reddit.com and reddit.com, not notreddit.com
		{"browser", "CHROME", []int{0, 1, 6, 8, 10}},
		{"utm_source", "newsletter", []int{3, 7}},
		// Values that would be SQL if they were pasted in: bound, they are
		// plain strings that match only themselves.
		{"utm_source", "x' OR 1=1 --", []int{9}},
		{"source", `it's "quoted"`, []int{10}},
		{"path", "/it's", []int{10}},
		{"source", "') OR 1=1 OR ('", nil},
		{"path", "/'; DROP TABLE events; --", nil},
	}
	for _, c := range cases {
		label := fmt.Sprintf("quarantine %s=%q", c.kind, c.value)
		q, err := st.PutQuarantine(ctx, storage.Quarantine{SiteID: qSite, From: qFrom, To: qTo, Kind: storage.QuarantineKind(c.kind), Value: c.value, CreatedBy: "test"})
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		checkCounts(t, st, label, c.want)
		if _, err := st.RevokeQuarantine(ctx, qSite, q.ID); err != nil {
			t.Fatalf("%s: revoke: %v", label, err)
		}
		checkCounts(t, st, label+", revoked", nil)
	}

	// The other site's quarantine, even on the same value, changes nothing
	// here; two of this site's quarantines add up.
	if _, err := st.PutQuarantine(ctx, storage.Quarantine{SiteID: qOther, From: qMarch[0], To: qMarch[1], Kind: "asn", Value: "16509"}); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, st, "another site's quarantine", nil)
	for _, q := range []storage.Quarantine{
		{SiteID: qSite, From: qFrom, To: qTo, Kind: "country", Value: "FR"},
		{SiteID: qSite, From: qFrom.Add(-time.Hour), To: qFrom.Add(time.Second), Kind: "asn", Value: "16509"}, // catches 4 and 6
	} {
		if _, err := st.PutQuarantine(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	checkCounts(t, st, "two quarantines", []int{4, 6, 8})

	// A quarantine outside the period asked for does not apply to it.
	got, err := st.Totals(ctx, qSite, qFrom.Add(time.Second), qTo, storage.ViewHuman)
	if err != nil {
		t.Fatal(err)
	}
	// In [qFrom+1s, qTo): ok events 0, 3, 7, 9 stay; 8 (FR) is quarantined.
	if want := (storage.Totals{Pageviews: 4, Visitors: 4, Visits: 4, Events: 4}); got != want {
		t.Errorf("Totals for part of the window = %+v, want %+v", got, want)
	}

	// The raw rows are untouched throughout.
	rows, distinct, err := st.CountEvents(ctx, qSite)
	if err != nil || rows != uint64(len(qEvents)) || distinct != rows {
		t.Fatalf("CountEvents = %d, %d, %v; want %d stored events", rows, distinct, err, len(qEvents))
	}
}

func TestQuarantineLifecycle(t *testing.T) { checkQuarantineLifecycle(t, chtest.Store(t)) }

// checkQuarantineLifecycle stores, lists and revokes quarantines, with
// another site trying to revoke them.
func checkQuarantineLifecycle(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	created := time.Date(2026, 3, 20, 8, 0, 0, 0, time.UTC)
	a, err := st.PutQuarantine(ctx, storage.Quarantine{SiteID: qSite, From: qFrom.Add(500 * time.Millisecond), To: qTo, Kind: "asn", Value: "as16509",
		Note: " AWS scraper ", CreatedBy: "cli", CreatedAt: created})
	if err != nil {
		t.Fatal(err)
	}
	want := storage.Quarantine{SiteID: qSite, ID: a.ID, From: qFrom, To: qTo, Kind: storage.QuarantineASN, Value: "16509", Note: "AWS scraper", CreatedBy: "cli", CreatedAt: created}
	if a.ID == uuid.Nil || !reflect.DeepEqual(a, want) {
		t.Fatalf("PutQuarantine = %+v, want %+v", a, want)
	}
	b, err := st.PutQuarantine(ctx, storage.Quarantine{SiteID: qSite, From: qFrom.Add(-24 * time.Hour), To: qFrom, Kind: "path", Value: "/admin/", CreatedBy: "cli", CreatedAt: created})
	if err != nil {
		t.Fatal(err)
	}
	if b.Value != "/admin" {
		t.Fatalf("path value = %q, want /admin", b.Value)
	}
	if _, err := st.RevokeQuarantine(ctx, qOther, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoke from another site: %v, want ErrNotFound", err)
	}
	revoked, err := st.RevokeQuarantine(ctx, qSite, a.ID)
	want.Revoked = true
	if err != nil || !reflect.DeepEqual(revoked, want) {
		t.Fatalf("RevokeQuarantine = %+v, %v; want %+v", revoked, err, want)
	}
	if _, err := st.RevokeQuarantine(ctx, qSite, a.ID); !errors.Is(err, storage.ErrRevoked) {
		t.Fatalf("second revoke: %v, want ErrRevoked", err)
	}
	if _, err := st.RevokeQuarantine(ctx, qSite, uuid.New()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoke unknown: %v, want ErrNotFound", err)
	}
	list, err := st.Quarantines(ctx, qSite)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(list, []storage.Quarantine{b, want}) {
		t.Fatalf("Quarantines =\n%+v\nwant\n%+v", list, []storage.Quarantine{b, want})
	}
	if list, err := st.Quarantines(ctx, qOther); err != nil || len(list) != 0 {
		t.Fatalf("another site's quarantines: %+v, %v", list, err)
	}
}

func TestPutQuarantineRefusesBadInput(t *testing.T) {
	st := chtest.Store(t)
	ok := storage.Quarantine{SiteID: qSite, From: qFrom, To: qTo, Kind: "asn", Value: "16509"}
	cases := []struct {
		edit    func(q *storage.Quarantine)
		wantErr string
	}{
		{func(q *storage.Quarantine) { q.Kind = "cidr"; q.Value = "10.0.0.0/8" }, `quarantine kind "cidr": want one of asn, country, path, source, referrer_domain, browser, utm_source`},
		{func(q *storage.Quarantine) { q.Kind = "pathname"; q.Value = "/" }, `quarantine kind "pathname"`},
		{func(q *storage.Quarantine) { q.Value = "0" }, "asn"},
		{func(q *storage.Quarantine) { q.Kind, q.Value = "country", "Germany" }, "two-letter"},
		{func(q *storage.Quarantine) { q.Kind, q.Value = "path", "admin" }, "starting with /"},
		{func(q *storage.Quarantine) { q.Kind, q.Value = "referrer_domain", "https://reddit.com/r" }, "host name"},
		{func(q *storage.Quarantine) { q.Kind, q.Value = "source", "  " }, "non-empty"},
		{func(q *storage.Quarantine) { q.Kind, q.Value = "browser", "Chrome\n1" }, "control characters"},
		{func(q *storage.Quarantine) { q.Kind, q.Value = "utm_source", strings.Repeat("x", 2049) }, "longer than"},
		{func(q *storage.Quarantine) { q.To = q.From }, "want a start before the end"},
		{func(q *storage.Quarantine) { q.From, q.To = q.To, q.From }, "want a start before the end"},
		{func(q *storage.Quarantine) { q.From = time.Time{} }, "want a start before the end"},
		{func(q *storage.Quarantine) { q.SiteID = uuid.Nil }, "no site"},
		{func(q *storage.Quarantine) { q.Note = strings.Repeat("n", 501) }, "note longer"},
	}
	for i, c := range cases {
		q := ok
		c.edit(&q)
		if _, err := st.PutQuarantine(context.Background(), q); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("case %d: PutQuarantine(%+v) = %v, want an error with %q", i, q, err, c.wantErr)
		}
	}
	if list, err := st.Quarantines(context.Background(), qSite); err != nil || len(list) != 0 {
		t.Fatalf("refused quarantines were stored: %+v, %v", list, err)
	}
}

// FuzzParseQuarantineMatch: no input panics; an accepted one has a known
// kind, a bounded non-empty value, and normalising it again changes
// nothing.
func FuzzParseQuarantineMatch(f *testing.F) {
	for _, c := range []struct{ kind, value string }{
		{"asn", "AS16509"}, {"country", "uk"}, {"path", "/a/*"}, {"source", " Google "},
		{"referrer_domain", "Old.Reddit.com"}, {"browser", "x' OR 1=1 --"}, {"utm_source", "a\x00b"}, {"cidr", "10.0.0.0/8"},
	} {
		f.Add(c.kind, c.value)
	}
	f.Fuzz(func(t *testing.T, kind, value string) {
		k, v, err := storage.ParseQuarantineMatch(kind, value)
		if err != nil {
			return
		}
		if !slices.Contains(storage.QuarantineKinds, k) || string(k) != kind || v == "" || len(v) > 2048 {
			t.Fatalf("ParseQuarantineMatch(%q, %q) = %q, %q", kind, value, k, v)
		}
		if k2, v2, err := storage.ParseQuarantineMatch(kind, v); err != nil || k2 != k || v2 != v {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", value, v, v2, err)
		}
	})
}
