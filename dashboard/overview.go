package dashboard

import (
	"errors"
	"net/url"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// filterKeys are the URL parameters that filter the overview, in the order
// their chips show. Every other parameter is ignored; the statistics
// layer's ParseQuery reads the same parameters.
var filterKeys = []string{
	"page", "entry", "exit", "source", "channel", "referrer",
	"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term",
	"country", "region", "city", "device", "browser", "os", "event",
}

// filterLabels name the filters on their chips.
var filterLabels = map[string]string{
	"page": "Page", "entry": "Entry page", "exit": "Exit page", "source": "Source", "channel": "Channel", "referrer": "Referrer",
	"utm_source": "UTM source", "utm_medium": "UTM medium", "utm_campaign": "UTM campaign", "utm_content": "UTM content", "utm_term": "UTM term",
	"country": "Country", "region": "Region", "city": "City", "device": "Device", "browser": "Browser", "os": "OS", "event": "Event",
}

// verdictNames are the traffic-quality panel's rows: stored verdict, label.
var verdictNames = [][2]string{{"ok", "Human"}, {"suspect", "Suspicious"}, {"invalid", "Invalid"}}

// overview renders a site's overview for the period, view and filters in
// the URL. A bad period or view is a 400 with the reason.
func (h *Handler) overview(c *fiber.Ctx) error {
	s := siteOf(c)
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return &pageError{status: fiber.StatusBadRequest, title: "Bad address", message: "The address's query string is malformed."}
	}
	period, err := ParsePeriod(q, h.now())
	if err != nil {
		return &pageError{status: fiber.StatusBadRequest, title: "Bad period", message: "The period cannot be shown: " + err.Error() + "."}
	}
	view, err := storage.ParseView(q.Get("view"))
	if err != nil {
		return &pageError{status: fiber.StatusBadRequest, title: "Bad view", message: "Choose the human, all or suspicious view."}
	}
	query := Query{SiteID: s.ID, From: period.From, To: period.To, Step: period.Step, View: view, Filters: url.Values{}}
	for _, k := range filterKeys {
		if vs := q[k]; len(vs) > 0 {
			query.Filters[k] = slices.Clone(vs)
		}
	}

	m := views.Overview{
		Chrome: chromeOf(c, s.Name),
		Site:   siteHeader(s, roleOf(c)),
		Period: period.Label,
		From:   period.From.Format("2006-01-02"),
		To:     period.To.AddDate(0, 0, -1).Format("2006-01-02"),
		View:   string(view),
		Hidden: hiddenInputs(q, "period", "from", "to"),
	}
	base := "/sites/" + s.ID.String()
	for _, name := range periodNames[:len(periodNames)-1] {
		m.Periods = append(m.Periods, views.Choice{Label: periodLabels[name], URL: base + "?" + with(q, "period", name, "from", "", "to", ""), Active: name == period.Name})
	}
	for _, v := range []storage.View{storage.ViewHuman, storage.ViewAll, storage.ViewSuspicious} {
		label := map[storage.View]string{storage.ViewHuman: "Human", storage.ViewAll: "All", storage.ViewSuspicious: "Suspicious only"}[v]
		m.Views = append(m.Views, views.Choice{Label: label, URL: base + "?" + with(q, "view", string(v)), Active: v == view})
	}
	for _, k := range filterKeys {
		for _, v := range query.Filters[k] {
			m.Chips = append(m.Chips, views.Chip{Label: filterLabels[k], Value: v, RemoveURL: base + "?" + without(q, k, v)})
		}
	}

	ctx := c.UserContext()
	totals, err := h.stats.Totals(ctx, query)
	if errors.Is(err, ErrFiltersUnsupported) {
		m.Notice = "These filters cannot be applied yet: the filtered statistics are not built. Remove the filters to see the numbers."
		return render(c, views.OverviewPage(m))
	} else if err != nil {
		return err
	}
	m.Totals = []views.Stat{
		{Label: "Unique visitors", Value: formatCount(totals.Visitors)},
		{Label: "Visits", Value: formatCount(totals.Visits)},
		{Label: "Pageviews", Value: formatCount(totals.Pageviews)},
		{Label: "Views per visit", Value: ratio(totals.Pageviews, totals.Visits)},
	}
	points, err := h.stats.Timeseries(ctx, query)
	if err != nil {
		return err
	}
	m.Chart = chartModel(points, period.Step)
	report, err := h.stats.Quality(ctx, query)
	if err != nil {
		return err
	}
	m.Quality = qualityModel(report)
	return render(c, views.OverviewPage(m))
}

func chartModel(points []Point, step Step) views.Chart {
	ch := views.Chart{Title: "Visitors and pageviews per " + string(step)}
	for _, p := range points {
		ch.Points = append(ch.Points, views.ChartPoint{Label: step.label(p.Start), A: p.Visitors, B: p.Pageviews})
	}
	ch.ALabel, ch.BLabel = "Visitors", "Pageviews"
	return ch
}

func qualityModel(r storage.QualityReport) views.Quality {
	var q views.Quality
	var total uint64
	for _, n := range r.Events {
		total += n
	}
	for _, v := range verdictNames {
		n := r.Events[v[0]]
		q.Verdicts = append(q.Verdicts, views.Share{Key: v[0], Label: v[1], Count: formatCount(n), Percent: percent(n, total)})
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

// with returns q with the pairs (key, value) set; an empty value deletes.
func with(q url.Values, pairs ...string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			out.Del(pairs[i])
		} else {
			out.Set(pairs[i], pairs[i+1])
		}
	}
	return out.Encode()
}

// without returns q without one value of key.
func without(q url.Values, key, value string) string {
	out := url.Values{}
	for k, vs := range q {
		for _, v := range vs {
			if k != key || v != value {
				out.Add(k, v)
			}
		}
	}
	return out.Encode()
}

// hiddenInputs carries q's parameters, except skip, through a GET form.
func hiddenInputs(q url.Values, skip ...string) []views.Hidden {
	var out []views.Hidden
	keys := make([]string, 0, len(q))
	for k := range q {
		if !slices.Contains(skip, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range q[k] {
			out = append(out, views.Hidden{Name: k, Value: v})
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

func ratio(a, b uint64) string {
	if b == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(a)/float64(b), 'f', 2, 64)
}

func percent(n, total uint64) string {
	if total == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64) + "%"
}
