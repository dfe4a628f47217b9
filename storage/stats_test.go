package storage_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// The statistics fixture: a week of March 2026 (custom period 1–7 March)
// on one site, with visits whose numbers are worked out by hand below,
// plus events just outside the period and another site's events with the
// same session ids, which must never count.
var (
	statsSite  = uuid.MustParse("00000000-0000-4000-8000-0000000005a1")
	statsOther = uuid.MustParse("00000000-0000-4000-8000-0000000005a2")
	statsFrom  = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	statsTo    = time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)
)

func march(day, h, m, s int) time.Time { return time.Date(2026, 3, day, h, m, s, 0, time.UTC) }

// visit builds a session's events: each step is a pageview, engagement,
// custom, vital or dom_check at a time, on the path of the last pageview.
type visit struct {
	site    uuid.UUID
	session uint64
	base    storage.Event // visitor, place, device, verdict, entry source
	events  []storage.Event
	path    string
}

func newVisit(site uuid.UUID, session, visitor uint64, base storage.Event) *visit {
	base.SiteID, base.SessionID, base.VisitorID, base.Hostname = site, session, visitor, "shop.example"
	if base.Verdict == "" {
		base.Verdict = "ok"
	}
	base.Ingest = "browser"
	return &visit{site: site, session: session, base: base}
}

func (v *visit) add(ts time.Time, typ, name string, edit func(*storage.Event)) *visit {
	e := v.base
	e.TS, e.Type, e.Name, e.Pathname = ts, typ, name, v.path
	if typ != "pageview" {
		e.Source, e.Channel, e.Referrer = "", "", ""
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%d/%d", v.site, v.session, len(v.events))
	e.EventID = h.Sum64()
	e.PageLoadID = uuid.NewSHA1(v.site, fmt.Appendf(nil, "%d/%s", v.session, v.path))
	if edit != nil {
		edit(&e)
	}
	v.events = append(v.events, e)
	return v
}

// pageview opens a page; after the first, the source is internal.
func (v *visit) pageview(ts time.Time, path string) *visit {
	v.path = path
	v.add(ts, "pageview", "", nil)
	v.base.Source, v.base.Channel, v.base.Referrer = "Direct / None", "internal", ""
	return v
}

func (v *visit) engaged(ts time.Time, ms uint32) *visit {
	return v.add(ts, "engagement", "", func(e *storage.Event) { e.EngagementMS = ms })
}

func (v *visit) custom(ts time.Time, name string, kv ...string) *visit {
	return v.add(ts, "custom", name, func(e *storage.Event) {
		for i := 0; i < len(kv); i += 2 {
			e.PropKeys, e.PropValues = append(e.PropKeys, kv[i]), append(e.PropValues, kv[i+1])
		}
	})
}

func (v *visit) vital(ts time.Time, name string, value float64) *visit {
	return v.add(ts, "vital", name, func(e *storage.Event) { e.Value = value })
}

func (v *visit) dom(ts time.Time, names ...string) *visit {
	for _, n := range append([]string{"checked"}, names...) {
		v.add(ts, "dom_check", n, func(e *storage.Event) { e.Value = 1 })
	}
	return v
}

var (
	berlin = storage.Event{Country: "DE", Region: "BE", City: "Berlin", Device: "desktop", Browser: "Chrome", BrowserVersion: "120", OS: "Windows", OSVersion: "10"}
	sf     = storage.Event{Country: "US", Region: "CA", City: "San Francisco", Device: "mobile", Browser: "Safari", BrowserVersion: "17", OS: "iOS", OSVersion: "17"}
	paris  = storage.Event{Country: "FR", Region: "IDF", City: "Paris", Device: "desktop", Browser: "Firefox", BrowserVersion: "121", OS: "Linux"}
	london = storage.Event{Country: "GB", Region: "ENG", City: "London", Device: "desktop", Browser: "Edge", BrowserVersion: "120", OS: "Windows", OSVersion: "11"}
	nyc    = storage.Event{Country: "US", Region: "NY", City: "New York", Device: "mobile", Browser: "Chrome", BrowserVersion: "119", OS: "Android", OSVersion: "14"}
)

func from(e storage.Event, source, channel, referrer string) storage.Event {
	e.Source, e.Channel, e.Referrer = source, channel, referrer
	return e
}

// statsEvents is the fixture. Per visit (human view unless said):
//
//	s1 v1 2 Mar  Google      / → /pricing, 50 s engaged, signup plan=pro
//	s2 v2 2 Mar  Hacker News /blog/a (bounce), 10 s, utm hn/launch
//	s3 v1 2 Mar  direct      /blog/b → /blog/a → /, signup plan=free
//	s8 v6 2 Mar  direct      /about (bounce)
//	s4 v3 4 Mar  Google cpc  /pricing (bounce), 5 s, download file=a.pdf
//	s5 v4 4 Mar  direct      / → /pricing: invalid (automation)
//	s6 v5 6 Mar  direct      / (bounce), 1 s
//	s9 28 Feb (before), s10 8 Mar (after), and site "other" copies of s1.
func statsEvents() []storage.Event {
	google := from(berlin, "Google", "search", "https://www.google.com/")
	direct := func(e storage.Event) storage.Event { return from(e, "Direct / None", "direct", "") }
	hn := from(sf, "Hacker News", "social", "https://news.ycombinator.com/")
	hn.UTMSource, hn.UTMCampaign = "hn", "launch"
	paid := from(paris, "Google", "paid", "https://www.google.com/")
	paid.UTMSource, paid.UTMMedium, paid.UTMCampaign = "google", "cpc", "spring"
	bot := direct(berlin)
	bot.Verdict, bot.Class, bot.Reasons, bot.Score = "invalid", "sivt_automation", []string{"webdriver"}, 80

	visits := []*visit{
		newVisit(statsSite, 1, 1, google).pageview(march(2, 10, 0, 0), "/").engaged(march(2, 10, 0, 30), 30000).
			vital(march(2, 10, 0, 31), "LCP", 2000).vital(march(2, 10, 0, 32), "CLS", 0.05).dom(march(2, 10, 0, 33), "missing_description").
			pageview(march(2, 10, 1, 0), "/pricing").engaged(march(2, 10, 1, 20), 20000).dom(march(2, 10, 1, 21)).
			custom(march(2, 10, 1, 30), "signup", "plan", "pro"),
		newVisit(statsSite, 2, 2, hn).pageview(march(2, 11, 0, 0), "/blog/a").engaged(march(2, 11, 0, 10), 10000).
			vital(march(2, 11, 0, 11), "LCP", 4500).dom(march(2, 11, 0, 12), "missing_title", "img_no_alt"),
		newVisit(statsSite, 3, 1, direct(berlin)).pageview(march(2, 15, 0, 0), "/blog/b").vital(march(2, 15, 0, 5), "LCP", 3000).
			pageview(march(2, 15, 2, 0), "/blog/a").pageview(march(2, 15, 5, 0), "/").custom(march(2, 15, 6, 0), "signup", "plan", "free"),
		newVisit(statsSite, 8, 6, direct(london)).pageview(march(2, 14, 45, 0), "/about"),
		newVisit(statsSite, 4, 3, paid).pageview(march(4, 9, 0, 0), "/pricing").engaged(march(4, 9, 0, 5), 5000).
			custom(march(4, 9, 0, 6), "download", "file", "a.pdf"),
		newVisit(statsSite, 5, 4, bot).pageview(march(4, 12, 0, 0), "/").vital(march(4, 12, 0, 1), "LCP", 99999).
			pageview(march(4, 12, 0, 2), "/pricing").custom(march(4, 12, 0, 3), "signup", "plan", "pro"),
		newVisit(statsSite, 6, 5, direct(nyc)).pageview(march(6, 8, 0, 0), "/").engaged(march(6, 8, 0, 30), 1000),
		newVisit(statsSite, 9, 9, direct(nyc)).pageview(statsFrom.Add(-time.Second), "/old"),
		newVisit(statsSite, 10, 10, direct(nyc)).pageview(statsTo, "/late"),
		newVisit(statsOther, 1, 1, google).pageview(march(2, 10, 0, 0), "/").engaged(march(2, 10, 0, 30), 99000).
			vital(march(2, 10, 0, 31), "LCP", 1).dom(march(2, 10, 0, 33), "missing_lang").
			pageview(march(2, 10, 0, 50), "/secret").custom(march(2, 10, 1, 30), "signup", "plan", "pro"),
		newVisit(statsOther, 3, 7, google).pageview(march(2, 15, 1, 0), "/other"),
	}
	var out []storage.Event
	for _, v := range visits {
		out = append(out, v.events...)
	}
	return out
}

func statsQuery(filters ...string) storage.Query {
	q := storage.Query{SiteID: statsSite, Period: storage.PeriodCustom, From: statsFrom, To: statsTo, View: storage.ViewHuman}
	for _, s := range filters {
		f, err := storage.ParseFilter(s)
		if err != nil {
			panic(err)
		}
		q.Filters = append(q.Filters, f)
	}
	return q
}

func metrics(visitors, visits, pageviews uint64, bounce float64, duration time.Duration) storage.Metrics {
	return storage.Metrics{Visitors: visitors, Visits: visits, Pageviews: pageviews,
		ViewsPerVisit: float64(pageviews) / float64(visits), BounceRate: bounce, VisitDuration: duration}
}

func checkStats(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	if err := st.InsertEvents(ctx, statsEvents()); err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	t.Run("aggregate", func(t *testing.T) {
		cases := []struct {
			view    storage.View
			filters []string
			want    storage.Metrics
		}{
			{storage.ViewHuman, nil, metrics(5, 6, 9, 4.0/6, 11000*ms)},
			{storage.ViewAll, nil, metrics(6, 7, 11, 4.0/7, 9428*ms)},
			{storage.ViewSuspicious, nil, metrics(1, 1, 2, 0, 0)},
			{storage.ViewHuman, []string{"page:/blog/*"}, metrics(2, 2, 3, 0.5, 5000*ms)},
			{storage.ViewHuman, []string{"!page:/blog/*"}, metrics(4, 5, 6, 0.6, 11200*ms)},
			{storage.ViewHuman, []string{"source:Google"}, metrics(2, 2, 3, 0.5, 27500*ms)},
			{storage.ViewHuman, []string{"!source:Google"}, metrics(4, 4, 6, 0.75, 2750*ms)},
			{storage.ViewHuman, []string{"entry_page:/"}, metrics(2, 2, 3, 0.5, 25500*ms)},
			{storage.ViewHuman, []string{"entry_page:/blog/*"}, metrics(2, 2, 4, 0.5, 5000*ms)},
			{storage.ViewHuman, []string{"exit_page:/"}, metrics(2, 2, 4, 0.5, 500*ms)},
			{storage.ViewHuman, []string{"event:signup"}, metrics(1, 2, 5, 0, 25000*ms)},
			{storage.ViewHuman, []string{"!event:signup"}, metrics(4, 4, 4, 1, 4000*ms)},
			{storage.ViewHuman, []string{"prop:plan=pro"}, metrics(1, 1, 2, 0, 50000*ms)},
			{storage.ViewHuman, []string{"source:Google", "country:FR"}, metrics(1, 1, 1, 1, 5000*ms)},
			{storage.ViewHuman, []string{"browser_version:Chrome 120"}, metrics(1, 2, 5, 0, 25000*ms)},
			{storage.ViewHuman, []string{"!country:DE"}, metrics(4, 4, 4, 1, 4000*ms)},
			{storage.ViewHuman, []string{"utm_campaign:launch"}, metrics(1, 1, 1, 1, 10000*ms)},
			{storage.ViewHuman, []string{"country:XX"}, storage.Metrics{}},
			// Values are bound, never SQL: an injection attempt is a value no row has.
			{storage.ViewHuman, []string{"source:' OR '1'='1"}, storage.Metrics{}},
			{storage.ViewHuman, []string{"!source:') OR 1=1 --\\"}, metrics(5, 6, 9, 4.0/6, 11000*ms)},
			{storage.ViewHuman, []string{"page:/blog/%*"}, storage.Metrics{}},
		}
		for _, c := range cases {
			q := statsQuery(c.filters...)
			q.View = c.view
			got, err := st.Aggregate(ctx, q)
			if err != nil {
				t.Fatalf("%s %v: %v", c.view, c.filters, err)
			}
			if got.Current != c.want || got.Previous != nil {
				t.Errorf("Aggregate(%s %v) = %+v (previous %v), want %+v", c.view, c.filters, got.Current, got.Previous, c.want)
			}
		}
	})
	t.Run("compare", func(t *testing.T) {
		q := statsQuery()
		q.Compare = true
		got, err := st.Aggregate(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		want := metrics(1, 1, 1, 1, 0) // s9, the last second of February
		if got.Previous == nil || *got.Previous != want || got.Current != metrics(5, 6, 9, 4.0/6, 11000*ms) {
			t.Errorf("compare: %+v previous %+v, want previous %+v", got.Current, got.Previous, want)
		}
	})
	t.Run("timeseries", func(t *testing.T) {
		got, err := st.Timeseries(ctx, statsQuery(), storage.IntervalDay)
		if err != nil {
			t.Fatal(err)
		}
		want := []storage.Point{{Start: march(1, 0, 0, 0)}, {march(2, 0, 0, 0), 3, 4, 7}, {Start: march(3, 0, 0, 0)},
			{march(4, 0, 0, 0), 1, 1, 1}, {Start: march(5, 0, 0, 0)}, {march(6, 0, 0, 0), 1, 1, 1}, {Start: march(7, 0, 0, 0)}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("daily =\n%+v\nwant\n%+v", got, want)
		}
		if def, err := st.Timeseries(ctx, statsQuery(), ""); err != nil || !reflect.DeepEqual(def, want) {
			t.Errorf("default interval of a week: %+v, %v; want daily", def, err)
		}
		q := statsQuery("!page:/about")
		q.From, q.To = march(2, 0, 0, 0), march(3, 0, 0, 0)
		got, err = st.Timeseries(ctx, q, storage.IntervalHour)
		if err != nil {
			t.Fatal(err)
		}
		nonzero := map[int]storage.Point{10: {march(2, 10, 0, 0), 1, 1, 2}, 11: {march(2, 11, 0, 0), 1, 1, 1}, 15: {march(2, 15, 0, 0), 1, 1, 3}}
		if len(got) != 24 {
			t.Fatalf("hourly: %d buckets, want 24", len(got))
		}
		for h, p := range got {
			want, ok := nonzero[h]
			if !ok {
				want = storage.Point{Start: march(2, h, 0, 0)}
			}
			if p != want {
				t.Errorf("hour %d = %+v, want %+v", h, p, want)
			}
		}
	})
	t.Run("breakdown", func(t *testing.T) {
		row := func(v string, visitors, visits, n uint64, share float64) storage.BreakdownRow {
			return storage.BreakdownRow{Value: v, Visitors: visitors, Visits: visits, Count: n, Share: share}
		}
		cases := []struct {
			dim     storage.Dimension
			filters []string
			total   uint64
			want    []storage.BreakdownRow
		}{
			{storage.DimSource, nil, 5, []storage.BreakdownRow{row("Direct / None", 3, 3, 5, .6), row("Google", 2, 2, 3, .4), row("Hacker News", 1, 1, 1, .2)}},
			{storage.DimChannel, []string{"!channel:direct"}, 3, []storage.BreakdownRow{row("search", 1, 1, 2, 1.0/3), row("paid", 1, 1, 1, 1.0/3), row("social", 1, 1, 1, 1.0/3)}},
			{storage.DimUTMCampaign, nil, 5, []storage.BreakdownRow{row("", 3, 4, 7, .6), row("launch", 1, 1, 1, .2), row("spring", 1, 1, 1, .2)}},
			{storage.DimPage, nil, 5, []storage.BreakdownRow{row("/", 2, 3, 3, .4), row("/blog/a", 2, 2, 2, .4), row("/pricing", 2, 2, 2, .4), row("/about", 1, 1, 1, .2), row("/blog/b", 1, 1, 1, .2)}},
			{storage.DimEntryPage, nil, 5, []storage.BreakdownRow{row("/", 2, 2, 3, .4), row("/blog/b", 1, 1, 3, .2), row("/about", 1, 1, 1, .2), row("/blog/a", 1, 1, 1, .2), row("/pricing", 1, 1, 1, .2)}},
			{storage.DimExitPage, []string{"source:Google"}, 2, []storage.BreakdownRow{row("/pricing", 2, 2, 3, 1)}},
			{storage.DimCountry, []string{"page:/blog/*"}, 2, []storage.BreakdownRow{row("DE", 1, 1, 2, .5), row("US", 1, 1, 1, .5)}},
			{storage.DimBrowserVersion, []string{"device:desktop"}, 3, []storage.BreakdownRow{row("Chrome 120", 1, 2, 5, 1.0/3), row("Edge 120", 1, 1, 1, 1.0/3), row("Firefox 121", 1, 1, 1, 1.0/3)}},
			{storage.DimOSVersion, []string{"os:Linux"}, 1, []storage.BreakdownRow{row("Linux", 1, 1, 1, 1)}},
			{storage.DimEvent, nil, 5, []storage.BreakdownRow{row("signup", 1, 2, 2, .2), row("download", 1, 1, 1, .2)}},
			{storage.PropDimension("plan"), []string{"event:signup"}, 1, []storage.BreakdownRow{row("free", 1, 1, 1, 1), row("pro", 1, 1, 1, 1)}},
			{storage.PropDimension("file"), nil, 5, []storage.BreakdownRow{row("a.pdf", 1, 1, 1, .2)}},
		}
		for _, c := range cases {
			got, err := st.Breakdown(ctx, statsQuery(c.filters...), c.dim, 0)
			if err != nil {
				t.Fatalf("%s %v: %v", c.dim, c.filters, err)
			}
			if got.Visitors != c.total || !reflect.DeepEqual(got.Rows, c.want) {
				t.Errorf("Breakdown(%s %v) = %d visitors\n%+v\nwant %d\n%+v", c.dim, c.filters, got.Visitors, got.Rows, c.total, c.want)
			}
		}
		got, err := st.Breakdown(ctx, statsQuery(), storage.DimPage, 2)
		if err != nil || len(got.Rows) != 2 || got.Rows[1].Value != "/blog/a" {
			t.Errorf("limit 2: %+v, %v", got.Rows, err)
		}
	})
	t.Run("vitals", func(t *testing.T) {
		got, err := st.Vitals(ctx, statsQuery(), 0)
		if err != nil {
			t.Fatal(err)
		}
		lcp := func(v float64, r string) storage.VitalStat {
			return storage.VitalStat{Name: "LCP", P75: v, Samples: 1, Rating: r}
		}
		want := storage.Vitals{
			Site: storage.PageVitals{Samples: 3, Vitals: []storage.VitalStat{{Name: "LCP", P75: 4500, Samples: 3, Rating: "poor"}, {Name: "CLS", P75: 0.05, Samples: 1, Rating: "good"}}},
			Pages: []storage.PageVitals{
				{Pathname: "/", Samples: 1, Vitals: []storage.VitalStat{lcp(2000, "good"), {Name: "CLS", P75: 0.05, Samples: 1, Rating: "good"}}},
				{Pathname: "/blog/a", Samples: 1, Vitals: []storage.VitalStat{lcp(4500, "poor")}},
				{Pathname: "/blog/b", Samples: 1, Vitals: []storage.VitalStat{lcp(3000, "needs-improvement")}},
			},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Vitals =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("dom findings", func(t *testing.T) {
		got, err := st.DOMFindings(ctx, statsQuery(), 0)
		if err != nil {
			t.Fatal(err)
		}
		want := storage.DOMFindings{
			Site: storage.PageFindings{Checked: 3, Findings: []storage.Finding{{"img_no_alt", 1, 1.0 / 3}, {"missing_description", 1, 1.0 / 3}, {"missing_title", 1, 1.0 / 3}}},
			Pages: []storage.PageFindings{
				{Pathname: "/blog/a", Checked: 1, Findings: []storage.Finding{{"img_no_alt", 1, 1}, {"missing_title", 1, 1}}},
				{Pathname: "/", Checked: 1, Findings: []storage.Finding{{"missing_description", 1, 1}}},
			},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DOMFindings =\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("realtime", func(t *testing.T) {
		got, err := st.Realtime(ctx, statsSite, march(2, 15, 6, 30))
		if err != nil {
			t.Fatal(err)
		}
		one := func(v string) storage.BreakdownRow {
			return storage.BreakdownRow{Value: v, Visitors: 1, Visits: 1, Count: 1, Share: .5}
		}
		want := storage.Realtime{Visitors5m: 1, Visitors30m: 2,
			Pages:   []storage.BreakdownRow{one("/"), one("/about"), one("/blog/a"), one("/blog/b")},
			Sources: []storage.BreakdownRow{{Value: "Direct / None", Visitors: 2, Visits: 2, Count: 4, Share: 1}}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Realtime =\n%+v\nwant\n%+v", got, want)
		}
	})
}

func TestStats(t *testing.T) { checkStats(t, chtest.Store(t)) }

func TestStatsRejectsBadQueries(t *testing.T) {
	st := chtest.Store(t)
	ctx := context.Background()
	if _, err := st.Aggregate(ctx, storage.Query{From: statsFrom, To: statsTo}); err == nil {
		t.Error("a query without a site was run")
	}
	if _, err := st.Breakdown(ctx, statsQuery(), "pathname; DROP TABLE events", 0); err == nil {
		t.Error("an unknown dimension was accepted")
	}
	q := statsQuery()
	q.From, q.To = march(1, 0, 0, 0), march(1, 0, 0, 0).AddDate(0, 2, 0)
	if _, err := st.Timeseries(ctx, q, storage.IntervalHour); err == nil {
		t.Error("1,400 hourly buckets were accepted")
	}
}
