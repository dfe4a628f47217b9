package dashboard

import (
	"maps"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// pageState is what an overview URL says: the statistics query (without
// the site, which comes from the route) and which tab each breakdown panel
// shows. Every link on the page is the state with one thing changed, so the
// URL alone reproduces the page (bookmarks, shared links, no JavaScript).
type pageState struct {
	q    storage.Query
	tabs map[string]storage.Dimension // panel id -> tab shown, when not the first
	prop string                       // the events panel's property key
}

// propParam chooses whose values the events panel breaks down.
const propParam = "prop"

// stateParams are the overview's own URL parameters beside the query's.
func stateParams() []string {
	out := []string{propParam}
	for _, p := range breakdownPanels {
		out = append(out, p.id)
	}
	return out
}

// parseState reads the URL's query string for site. A malformed one is a
// 400 page that says what is wrong.
func (h *Handler) parseState(c *fiber.Ctx, s storage.Site) (pageState, error) {
	v, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return pageState{}, badQuery("the address's query string is malformed")
	}
	q, err := storage.ParseQuery(v, h.now(), stateParams()...)
	if err != nil {
		return pageState{}, badQuery(err.Error())
	}
	q.SiteID = s.ID
	st := pageState{q: q, tabs: map[string]storage.Dimension{}}
	for _, p := range breakdownPanels {
		if len(v[p.id]) > 1 {
			return pageState{}, badQuery("parameter " + p.id + " given more than once")
		}
		name := v.Get(p.id)
		if name == "" {
			continue
		}
		t, ok := p.tab(storage.Dimension(name))
		if !ok {
			return pageState{}, badQuery(strconv.Quote(name) + " is not a tab of " + p.title)
		}
		if t.dim != p.tabs[0].dim {
			st.tabs[p.id] = t.dim
		}
	}
	if len(v[propParam]) > 1 {
		return pageState{}, badQuery("parameter prop given more than once")
	}
	if st.prop = v.Get(propParam); st.prop != "" {
		if _, err := storage.ParseDimension(string(storage.PropDimension(st.prop))); err != nil {
			return pageState{}, badQuery("prop: " + err.Error())
		}
	}
	return st, nil
}

func badQuery(reason string) error {
	return &pageError{status: fiber.StatusBadRequest, title: "Bad address",
		message: "These statistics cannot be shown: " + reason + ". Fix the address, or start again from the overview."}
}

// values is the state's URL form; defaults are left out.
func (st pageState) values() url.Values {
	v := st.q.Encode()
	v.Del("compare") // the overview always compares
	for id, d := range st.tabs {
		v.Set(id, string(d))
	}
	if st.prop != "" {
		v.Set(propParam, st.prop)
	}
	return v
}

// link is the URL of path with the state.
func (st pageState) link(path string) string {
	if e := st.values().Encode(); e != "" {
		return path + "?" + e
	}
	return path
}

// withFilter is the state with f added (unless it is there already): what
// clicking a row does.
func (st pageState) withFilter(f storage.Filter) pageState {
	if !slices.Contains(st.q.Filters, f) {
		st.q = st.q.WithFilter(f)
	}
	return st
}

func (st pageState) withTab(panel string, d storage.Dimension, first bool) pageState {
	st.tabs = maps.Clone(st.tabs)
	delete(st.tabs, panel)
	if !first {
		st.tabs[panel] = d
	}
	return st
}

func (st pageState) withPeriod(p storage.Period) pageState {
	st.q.Period = p
	return st
}

func (st pageState) withView(v storage.View) pageState {
	st.q.View = v
	return st
}

// tab is the dimension the panel shows.
func (st pageState) tab(p breakdownPanel) breakdownTab {
	t, _ := p.tab(st.tabs[p.id])
	return t
}

// overview renders a site's overview for the state in the URL.
func (h *Handler) overview(c *fiber.Ctx) error {
	s := siteOf(c)
	st, err := h.parseState(c, s)
	if err != nil {
		return err
	}
	base := sitePath(s)
	m := views.Overview{
		Chrome: chromeOf(c, s.Name),
		Site:   siteHeader(s, roleOf(c)),
		Period: periodLabel(st.q),
		From:   st.q.From.Format(time.DateOnly),
		To:     st.q.To.AddDate(0, 0, -1).Format(time.DateOnly),
		View:   string(st.q.View),
	}
	for _, p := range periods {
		m.Periods = append(m.Periods, views.Choice{Label: p.label, URL: st.withPeriod(p.period).link(base), Active: p.period == st.q.Period})
	}
	for _, v := range viewChoices {
		m.Views = append(m.Views, views.Choice{Label: v.label, URL: st.withView(v.view).link(base), Active: v.view == st.q.View})
	}
	hidden := st.values()
	for _, k := range []string{"period", "from", "to"} {
		hidden.Del(k)
	}
	m.Hidden = hiddenInputs(hidden)
	for i, f := range st.q.Filters {
		rm := st
		rm.q = st.q.WithoutFilter(i)
		label, value := filterChip(f)
		m.Chips = append(m.Chips, views.Chip{Label: label, Value: value, RemoveURL: rm.link(base)})
	}
	if len(st.q.Filters) > 0 {
		clear := st
		clear.q.Filters = nil
		m.ClearURL = clear.link(base)
	}
	if err := h.overviewPanels(c, s, st, &m); err != nil {
		return err
	}
	return render(c, views.OverviewPage(m))
}

// viewChoices are the view toggle's options.
var viewChoices = []struct {
	view  storage.View
	label string
}{{storage.ViewHuman, "Human"}, {storage.ViewAll, "All"}, {storage.ViewSuspicious, "Suspicious only"}}

func sitePath(s storage.Site) string { return "/sites/" + s.ID.String() }

// dimLabels name the dimensions on chips, columns and in the CSV files.
var dimLabels = map[storage.Dimension]string{
	storage.DimSource: "Source", storage.DimChannel: "Channel", storage.DimReferrer: "Referrer",
	storage.DimUTMSource: "UTM source", storage.DimUTMMedium: "UTM medium", storage.DimUTMCampaign: "UTM campaign",
	storage.DimUTMContent: "UTM content", storage.DimUTMTerm: "UTM term",
	storage.DimPage: "Page", storage.DimEntryPage: "Entry page", storage.DimExitPage: "Exit page", storage.DimHostname: "Hostname",
	storage.DimCountry: "Country", storage.DimRegion: "Region", storage.DimCity: "City",
	storage.DimDevice: "Device", storage.DimBrowser: "Browser", storage.DimBrowserVersion: "Browser version",
	storage.DimOS: "OS", storage.DimOSVersion: "OS version", storage.DimEvent: "Event", storage.DimProp: "Property",
}

// filterChip is a filter's chip: "Country", "DE"; "Country is not", "DE";
// "Property plan", "pro".
func filterChip(f storage.Filter) (label, value string) {
	label = dimLabels[f.Dimension]
	if f.Dimension == storage.DimProp {
		label += " " + f.Key
	}
	if f.Negate {
		label += " is not"
	}
	return label, shownValue(f.Value)
}

// shownValue is how a dimension value reads: "" is "(none)".
func shownValue(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// hiddenInputs carries v's parameters through a GET form, sorted.
func hiddenInputs(v url.Values) []views.Hidden {
	var out []views.Hidden
	for _, k := range slices.Sorted(maps.Keys(v)) {
		for _, x := range v[k] {
			out = append(out, views.Hidden{Name: k, Value: x})
		}
	}
	return out
}

func formatCount(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formatPercent is a share (0..1) as a whole percentage, or with one
// decimal under 10 %.
func formatPercent(share float64) string {
	p := 100 * share
	if p > 0 && p < 10 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// formatDuration is a visit duration: "0s", "45s", "3m 07s", "1h 02m".
func formatDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	switch {
	case s < 60:
		return strconv.Itoa(s) + "s"
	case s < 3600:
		return strconv.Itoa(s/60) + "m " + pad2(s%60) + "s"
	}
	return strconv.Itoa(s/3600) + "h " + pad2(s/60%60) + "m"
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// percentOf is n/total as a percentage with one decimal ("0%" for none).
func percentOf(n, total uint64) string {
	if total == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64) + "%"
}

// barWidth is a share (0..1) as the width of a row's bar, 0 to 100.
func barWidth(share float64) string {
	return strconv.FormatFloat(min(max(share, 0), 1)*100, 'f', 1, 64)
}
