package dashboard

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/errgroup"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// breakdownTab is one dimension a breakdown panel can show.
type breakdownTab struct {
	dim   storage.Dimension
	label string
}

// breakdownPanel is a panel of the overview with tabs; the first tab is
// the default. Its id is the URL parameter that picks the tab.
type breakdownPanel struct {
	id, title string
	tabs      []breakdownTab
}

// tab finds the panel's tab for d; "" is the first.
func (p breakdownPanel) tab(d storage.Dimension) (breakdownTab, bool) {
	if d == "" {
		return p.tabs[0], true
	}
	for _, t := range p.tabs {
		if t.dim == d {
			return t, true
		}
	}
	return breakdownTab{}, false
}

var breakdownPanels = []breakdownPanel{
	{"sources", "Sources", []breakdownTab{{storage.DimSource, "Sources"}, {storage.DimChannel, "Channels"}, {storage.DimReferrer, "Referrers"},
		{storage.DimUTMSource, "UTM source"}, {storage.DimUTMMedium, "UTM medium"}, {storage.DimUTMCampaign, "UTM campaign"}}},
	{"pages", "Pages", []breakdownTab{{storage.DimPage, "Top pages"}, {storage.DimEntryPage, "Entry pages"}, {storage.DimExitPage, "Exit pages"}}},
	{"locations", "Locations", []breakdownTab{{storage.DimCountry, "Countries"}, {storage.DimRegion, "Regions"}, {storage.DimCity, "Cities"}}},
	{"devices", "Devices", []breakdownTab{{storage.DimDevice, "Devices"}, {storage.DimBrowser, "Browsers"}, {storage.DimBrowserVersion, "Browser versions"},
		{storage.DimOS, "Operating systems"}, {storage.DimOSVersion, "OS versions"}}},
}

// defaultParallelism is how many of a page's statistics queries run at
// once: see docs/benchmarks.md ("Dashboard: the whole overview page").
const defaultParallelism = 4

// overviewData is everything the overview reads for one state.
type overviewData struct {
	agg        storage.Aggregate
	points     []storage.Point
	interval   storage.Interval
	breakdowns []storage.Breakdown // one per breakdownPanels, its tab
	events     storage.Breakdown
	propKeys   []storage.PropKey // nil when no event is chosen
	propKey    string
	props      storage.Breakdown
	vitals     storage.Vitals
	dom        storage.DOMFindings
	quality    storage.QualityReport
}

// loadOverview runs the overview's queries, h.parallel at a time: each is
// one round trip of tens of milliseconds, mostly fixed cost, so running
// them side by side is what makes the page fast (docs/benchmarks.md).
func (h *Handler) loadOverview(ctx context.Context, st pageState) (overviewData, error) {
	q := st.q
	d := overviewData{interval: storage.DefaultInterval(q), breakdowns: make([]storage.Breakdown, len(breakdownPanels))}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(h.parallel)
	g.Go(func() (err error) {
		withPrevious := q
		withPrevious.Compare = true
		d.agg, err = h.stats.Aggregate(ctx, withPrevious)
		return err
	})
	g.Go(func() (err error) { d.points, err = h.stats.Timeseries(ctx, q, d.interval); return err })
	for i, p := range breakdownPanels {
		g.Go(func() (err error) { d.breakdowns[i], err = h.stats.Breakdown(ctx, q, st.tab(p).dim, 0); return err })
	}
	g.Go(func() (err error) { d.events, err = h.stats.Breakdown(ctx, q, storage.DimEvent, 0); return err })
	if st.prop != "" || chosenEvent(q) != "" {
		g.Go(func() error {
			keys, err := h.stats.PropKeys(ctx, q, 0)
			if err != nil {
				return err
			}
			d.propKeys, d.propKey = keys, st.prop
			if d.propKey == "" && len(keys) > 0 {
				d.propKey = keys[0].Key
			}
			if d.propKey != "" {
				d.props, err = h.stats.Breakdown(ctx, q, storage.PropDimension(d.propKey), 0)
			}
			return err
		})
	}
	g.Go(func() (err error) { d.vitals, err = h.stats.Vitals(ctx, q, 0); return err })
	g.Go(func() (err error) { d.dom, err = h.stats.DOMFindings(ctx, q, 0); return err })
	g.Go(func() (err error) { d.quality, err = h.stats.TrafficQuality(ctx, q.SiteID, q.From, q.To); return err })
	return d, g.Wait()
}

// chosenEvent is the custom event the query's first positive event filter
// names, "" if none: its properties are worth showing.
func chosenEvent(q storage.Query) string {
	for _, f := range q.Filters {
		if f.Dimension == storage.DimEvent && !f.Negate {
			return f.Value
		}
	}
	return ""
}

// overviewPanels fills m with the numbers of st.
func (h *Handler) overviewPanels(c *fiber.Ctx, s storage.Site, st pageState, m *views.Overview) error {
	d, err := h.loadOverview(c.UserContext(), st)
	if err != nil {
		return err
	}
	base := sitePath(s)
	export := func(panel string, extra ...string) string {
		v := st.q.Encode()
		for i := 0; i+1 < len(extra); i += 2 {
			v.Set(extra[i], extra[i+1])
		}
		u := base + "/export/" + panel + ".csv"
		if e := v.Encode(); e != "" {
			u += "?" + e
		}
		return u
	}
	m.TotalsExport, m.ChartExport = export("totals"), export("timeseries")
	m.Totals = headline(d.agg)
	if d.agg.Current.Pageviews == 0 {
		if len(st.q.Filters) > 0 {
			m.Empty = &views.Empty{Title: "No visits match these filters", Message: "Nothing in this period and view passes all the filters. Remove a filter above, or choose a longer period."}
		} else {
			m.Empty = &views.Empty{Title: "No pageviews in this period",
				Message: "If Verity is not on the site yet, paste this snippet into every page, before </head>; the first visits show up within seconds.",
				Snippet: h.snippet(s)}
		}
	}
	m.Chart = chartModel(d.points, d.interval)
	for i, p := range breakdownPanels {
		t := st.tab(p)
		panel := views.Panel{ID: p.id, Title: p.title, ExportURL: export(string(t.dim)),
			Columns: []string{dimLabels[t.dim], "Visitors", "Pageviews", "Share"}}
		for j, tb := range p.tabs {
			panel.Tabs = append(panel.Tabs, views.Choice{Label: tb.label, URL: st.withTab(p.id, tb.dim, j == 0).link(base), Active: tb.dim == t.dim})
		}
		panel.Rows = breakdownRows(st, base, d.breakdowns[i], func(v string) storage.Filter { return storage.Filter{Dimension: t.dim, Value: v} })
		m.Panels = append(m.Panels, panel)
	}
	m.Events = views.Panel{ID: "events", Title: "Custom events", ExportURL: export("event"),
		Columns: []string{"Event", "Visitors", "Events", "Conversion rate"}}
	m.Events.Rows = breakdownRows(st, base, d.events, func(v string) storage.Filter { return storage.Filter{Dimension: storage.DimEvent, Value: v} })
	if d.propKeys != nil {
		props := views.Panel{ID: "props", Title: "Properties", Columns: []string{"Value", "Visitors", "Events", "Share"}}
		if ev := chosenEvent(st.q); ev != "" {
			props.Title = "Properties of " + ev
		}
		for _, k := range d.propKeys {
			withKey := st
			withKey.prop = k.Key
			props.Tabs = append(props.Tabs, views.Choice{Label: k.Key, URL: withKey.link(base), Active: k.Key == d.propKey})
		}
		if d.propKey != "" {
			props.ExportURL = export("props", propParam, d.propKey)
			props.Rows = breakdownRows(st, base, d.props, func(v string) storage.Filter {
				return storage.Filter{Dimension: storage.DimProp, Key: d.propKey, Value: v}
			})
		}
		m.Props = &props
	}
	m.Vitals = vitalsModel(st, base, d.vitals)
	m.Vitals.ExportURL = export("vitals")
	m.DOM = domModel(st, base, d.dom)
	m.DOM.ExportURL = export("dom")
	m.Quality = qualityModel(d.quality)
	m.Quality.ExportURL = export("quality")
	m.Quality.Filtered = len(st.q.Filters) > 0
	return nil
}

// breakdownRows are b's rows, each a link that adds its filter.
func breakdownRows(st pageState, base string, b storage.Breakdown, filter func(string) storage.Filter) []views.Row {
	var rows []views.Row
	for _, r := range b.Rows {
		rows = append(rows, views.Row{
			Label: shownValue(r.Value), FilterURL: st.withFilter(filter(r.Value)).link(base),
			Cells: []string{formatCount(r.Visitors), formatCount(r.Count), formatPercent(r.Share)}, Bar: barWidth(r.Share),
		})
	}
	return rows
}

// headline is the six numbers with their change since the previous period.
func headline(a storage.Aggregate) []views.Stat {
	cur, prev := a.Current, a.Previous
	if prev == nil {
		prev = &storage.Metrics{}
	}
	count := func(label string, c, p uint64) views.Stat {
		return change(views.Stat{Label: label, Value: formatCount(c), Previous: formatCount(p)}, float64(c), float64(p), true)
	}
	return []views.Stat{
		count("Unique visitors", cur.Visitors, prev.Visitors),
		count("Visits", cur.Visits, prev.Visits),
		count("Pageviews", cur.Pageviews, prev.Pageviews),
		change(views.Stat{Label: "Views per visit", Value: strconv.FormatFloat(cur.ViewsPerVisit, 'f', 2, 64), Previous: strconv.FormatFloat(prev.ViewsPerVisit, 'f', 2, 64)},
			cur.ViewsPerVisit, prev.ViewsPerVisit, true),
		bounce(cur, *prev),
		change(views.Stat{Label: "Visit duration", Value: formatDuration(cur.VisitDuration), Previous: formatDuration(prev.VisitDuration)},
			float64(cur.VisitDuration), float64(prev.VisitDuration), true),
	}
}

// change sets s's change from p to c as a percentage ("+12%", "−5%";
// "new" from nothing), and whether it is good news.
func change(s views.Stat, c, p float64, upIsGood bool) views.Stat {
	switch {
	case c == p:
		s.Change, s.Trend = "±0%", "flat"
		return s
	case p == 0:
		s.Change, s.Trend = "new", "up"
	default:
		r := (c - p) / p * 100
		s.Change = signed(strconv.FormatFloat(r, 'f', 0, 64)) + "%"
		s.Trend = "up"
		if r < 0 {
			s.Trend = "down"
		}
		if s.Change == "+0%" || s.Change == "−0%" {
			s.Trend = "flat"
		}
	}
	s.Good = (s.Trend == "up") == upIsGood && s.Trend != "flat"
	return s
}

// bounce compares bounce rates in percentage points: lower is better.
func bounce(cur, prev storage.Metrics) views.Stat {
	s := views.Stat{Label: "Bounce rate", Value: formatPercent(cur.BounceRate), Previous: formatPercent(prev.BounceRate)}
	d := 100 * (cur.BounceRate - prev.BounceRate)
	s.Change = signed(strconv.FormatFloat(d, 'f', 0, 64)) + " pts"
	switch {
	case prev.Visits == 0 && cur.Visits == 0, s.Change == "+0 pts", s.Change == "−0 pts", s.Change == "0 pts":
		s.Change, s.Trend = "±0 pts", "flat"
	case d > 0:
		s.Trend = "up"
	default:
		s.Trend, s.Good = "down", true
	}
	return s
}

// signed puts a plus before a positive number and a true minus before a
// negative one.
func signed(n string) string {
	if len(n) > 0 && n[0] == '-' {
		return "−" + n[1:]
	}
	if n == "0" {
		return n
	}
	return "+" + n
}

func chartModel(points []storage.Point, interval storage.Interval) views.Chart {
	ch := views.Chart{Title: "Visitors and pageviews per " + string(interval), ALabel: "Visitors", BLabel: "Pageviews"}
	for _, p := range points {
		ch.Points = append(ch.Points, views.ChartPoint{Label: bucketLabel(interval, p.Start), A: p.Visitors, B: p.Pageviews})
	}
	return ch
}

// vitalOrder is the column order of the vitals table.
var vitalOrder = []string{"LCP", "INP", "CLS", "FCP", "TTFB"}

func vitalsModel(st pageState, base string, v storage.Vitals) views.Vitals {
	m := views.Vitals{Names: vitalOrder, Site: vitalsRow(v.Site)}
	m.Site.Label = "Whole site"
	for _, p := range v.Pages {
		r := vitalsRow(p)
		r.Label = p.Pathname
		r.FilterURL = st.withFilter(storage.Filter{Dimension: storage.DimPage, Value: p.Pathname}).link(base)
		m.Pages = append(m.Pages, r)
	}
	return m
}

func vitalsRow(p storage.PageVitals) views.VitalsRow {
	r := views.VitalsRow{Samples: formatCount(p.Samples)}
	for _, name := range vitalOrder {
		cell := views.VitalCell{Value: "–"}
		for _, v := range p.Vitals {
			if v.Name == name {
				cell = views.VitalCell{Value: formatVital(name, v.P75), Rating: v.Rating, Samples: formatCount(v.Samples)}
			}
		}
		r.Cells = append(r.Cells, cell)
	}
	return r
}

// formatVital is a p75: CLS unitless, the rest in ms or s.
func formatVital(name string, v float64) string {
	switch {
	case name == "CLS":
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 1000:
		return strconv.FormatFloat(v, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(v/1000, 'f', 2, 64) + " s"
}

// findingLabels say what a DOM-check finding means.
var findingLabels = map[string]string{
	"missing_title": "No <title>", "long_title": "Title too long", "missing_description": "No meta description",
	"long_description": "Meta description too long", "h1_count": "Not exactly one <h1>", "missing_canonical": "No canonical link",
	"missing_lang": "No lang on <html>", "missing_viewport": "No viewport meta tag", "img_no_alt": "Images without alt text",
	"noindex": "Marked noindex",
}

func findingRows(fs []storage.Finding) []views.FindingRow {
	var out []views.FindingRow
	for _, f := range fs {
		label := findingLabels[f.Name]
		if label == "" {
			label = f.Name
		}
		out = append(out, views.FindingRow{Name: f.Name, Label: label, Count: formatCount(f.Count), Share: formatPercent(f.Share)})
	}
	return out
}

func domModel(st pageState, base string, d storage.DOMFindings) views.DOM {
	m := views.DOM{Checked: formatCount(d.Site.Checked), Site: findingRows(d.Site.Findings)}
	for _, p := range d.Pages {
		m.Pages = append(m.Pages, views.DOMPage{Path: p.Pathname, Checked: formatCount(p.Checked), Findings: findingRows(p.Findings),
			FilterURL: st.withFilter(storage.Filter{Dimension: storage.DimPage, Value: p.Pathname}).link(base)})
	}
	return m
}

// verdictNames are the traffic-quality panel's rows: stored verdict, label.
var verdictNames = [][2]string{{"ok", "Human"}, {"suspect", "Suspicious"}, {"invalid", "Invalid"}}

func qualityModel(r storage.QualityReport) views.Quality {
	var q views.Quality
	var total uint64
	for _, n := range r.Events {
		total += n
	}
	for _, v := range verdictNames {
		n := r.Events[v[0]]
		q.Verdicts = append(q.Verdicts, views.Share{Key: v[0], Label: v[1], Count: formatCount(n), Percent: percentOf(n, total)})
	}
	for _, rc := range r.Reasons {
		q.Reasons = append(q.Reasons, views.ReasonRow{Verdict: rc.Verdict, Class: rc.Class, Reason: rc.Reason, Count: formatCount(rc.Count)})
	}
	for _, rc := range r.Rejected {
		q.Rejected = append(q.Rejected, views.ReasonRow{Reason: rc.Reason, Count: formatCount(rc.Count)})
	}
	q.Total = formatCount(total)
	return q
}
