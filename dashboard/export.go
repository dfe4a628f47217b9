package dashboard

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/storage"
)

// exportLimit is the number of rows a breakdown's CSV file has at most.
const exportLimit = storage.MaxBreakdownLimit

// export answers GET /sites/:site/export/:panel.csv with one panel of the
// overview, for the same query string, as a CSV attachment.
func (h *Handler) export(c *fiber.Ctx) error {
	s := siteOf(c)
	st, err := h.parseState(c, s)
	if err != nil {
		return err
	}
	panel := c.Params("panel")
	var buf bytes.Buffer
	w := &csvWriter{w: csv.NewWriter(&buf)}
	ctx := c.UserContext()
	q := st.q
	switch panel {
	case "totals":
		q.Compare = true
		a, err := h.stats.Aggregate(ctx, q)
		if err != nil {
			return err
		}
		writeTotals(w, a)
	case "timeseries":
		points, err := h.stats.Timeseries(ctx, q, storage.DefaultInterval(q))
		if err != nil {
			return err
		}
		w.row("start", "visitors", "visits", "pageviews")
		for _, p := range points {
			w.row(p.Start.UTC().Format(time.RFC3339), num(p.Visitors), num(p.Visits), num(p.Pageviews))
		}
	case "props":
		if st.prop == "" {
			return badQuery("the property export needs prop=<property name>")
		}
		b, err := h.stats.Breakdown(ctx, q, storage.PropDimension(st.prop), exportLimit)
		if err != nil {
			return err
		}
		w.row("value", "visitors", "visits", "events", "share")
		writeBreakdown(w, b)
	case "vitals":
		v, err := h.stats.Vitals(ctx, q, exportLimit)
		if err != nil {
			return err
		}
		w.row("pathname", "vital", "p75", "samples", "rating")
		for _, p := range append([]storage.PageVitals{v.Site}, v.Pages...) {
			for _, x := range p.Vitals {
				w.row(w.text(cmp.Or(p.Pathname, "(whole site)")), x.Name, strconv.FormatFloat(x.P75, 'f', -1, 64), num(x.Samples), x.Rating)
			}
		}
	case "dom":
		d, err := h.stats.DOMFindings(ctx, q, exportLimit)
		if err != nil {
			return err
		}
		w.row("pathname", "checked", "finding", "count", "share")
		for _, p := range append([]storage.PageFindings{d.Site}, d.Pages...) {
			for _, f := range p.Findings {
				w.row(w.text(cmp.Or(p.Pathname, "(whole site)")), num(p.Checked), w.text(f.Name), num(f.Count), decimal(f.Share))
			}
		}
	case "quality":
		r, err := h.stats.TrafficQuality(ctx, s.ID, q.From, q.To)
		if err != nil {
			return err
		}
		w.row("kind", "verdict", "class", "reason", "count")
		for _, v := range verdictNames {
			w.row("events", v[0], "", "", num(r.Events[v[0]]))
		}
		for _, rc := range r.Reasons {
			w.row("flagged", w.text(rc.Verdict), w.text(rc.Class), w.text(rc.Reason), num(rc.Count))
		}
		for _, rc := range r.Rejected {
			w.row("refused", "", "", w.text(rc.Reason), num(rc.Count))
		}
	default:
		d, err := storage.ParseDimension(panel)
		if err != nil || d == storage.DimHostname || strings.HasPrefix(panel, string(storage.DimProp)) {
			return fiber.ErrNotFound
		}
		b, err := h.stats.Breakdown(ctx, q, d, exportLimit)
		if err != nil {
			return err
		}
		count := "pageviews"
		if d == storage.DimEvent {
			count = "events"
		}
		w.row(panel, "visitors", "visits", count, "share")
		writeBreakdown(w, b)
	}
	w.w.Flush()
	if err := w.w.Error(); err != nil {
		return err
	}
	name := exportName(s, panel, q)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// exportName is "<domain>-<panel>-<from>-<to>.csv", with only safe
// characters (the domain is validated, but the header must stay plain).
func exportName(s storage.Site, panel string, q storage.Query) string {
	name := s.Domain + "-" + panel + "-" + q.From.Format("20060102") + "-" + q.To.AddDate(0, 0, -1).Format("20060102") + ".csv"
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, name)
}

func writeTotals(w *csvWriter, a storage.Aggregate) {
	prev := storage.Metrics{}
	if a.Previous != nil {
		prev = *a.Previous
	}
	cur := a.Current
	w.row("metric", "current", "previous")
	w.row("visitors", num(cur.Visitors), num(prev.Visitors))
	w.row("visits", num(cur.Visits), num(prev.Visits))
	w.row("pageviews", num(cur.Pageviews), num(prev.Pageviews))
	w.row("views_per_visit", decimal(cur.ViewsPerVisit), decimal(prev.ViewsPerVisit))
	w.row("bounce_rate", decimal(cur.BounceRate), decimal(prev.BounceRate))
	w.row("visit_duration_seconds", decimal(cur.VisitDuration.Seconds()), decimal(prev.VisitDuration.Seconds()))
}

func writeBreakdown(w *csvWriter, b storage.Breakdown) {
	for _, r := range b.Rows {
		w.row(w.text(r.Value), num(r.Visitors), num(r.Visits), num(r.Count), decimal(r.Share))
	}
}

// csvWriter writes rows whose text cells come from the data through text,
// which defuses formulas.
type csvWriter struct{ w *csv.Writer }

func (w *csvWriter) row(cells ...string) { _ = w.w.Write(cells) } // errors surface at Flush

// text defuses CSV injection in a cell taken from the data (see
// defuseFormula); encoding/csv quotes the cell as needed. Numbers the
// dashboard computes do not go through here.
func (w *csvWriter) text(s string) string { return defuseFormula(s) }

func num(n uint64) string      { return strconv.FormatUint(n, 10) }
func decimal(f float64) string { return strconv.FormatFloat(f, 'f', 4, 64) }
