package dashboard

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// realtimeRefresh is how often the realtime page refreshes itself: htmx
// polls the page's live section, and without JavaScript a refresh meta tag
// inside <noscript> reloads the page.
const realtimeRefresh = 10 * time.Second

// realtime shows what is happening on the site now: visitors in the last 5
// and 30 minutes and the top pages and sources of the last 30 (human
// traffic). It takes no parameters.
func (h *Handler) realtime(c *fiber.Ctx) error {
	s := siteOf(c)
	if len(c.Request().URI().QueryString()) > 0 {
		return badQuery("the realtime page takes no parameters")
	}
	now := h.now().UTC()
	rt, err := h.stats.Realtime(c.UserContext(), s.ID, now)
	if err != nil {
		return err
	}
	base := sitePath(s)
	ch := chromeOf(c, s.Name+" realtime")
	ch.Refresh = int(realtimeRefresh.Seconds())
	m := views.Realtime{
		Chrome:      ch,
		Site:        siteHeader(s, roleOf(c)),
		URL:         base + "/realtime",
		Visitors5m:  formatCount(rt.Visitors5m),
		Visitors30m: formatCount(rt.Visitors30m),
		Updated:     now.Format("15:04:05") + " UTC",
		Every:       strconv.Itoa(int(realtimeRefresh.Seconds())),
	}
	// Each row opens today's overview filtered by it.
	today := func(d storage.Dimension, v string) string {
		return base + "?" + url.Values{"period": {string(storage.PeriodToday)}, "f": {storage.Filter{Dimension: d, Value: v}.String()}}.Encode()
	}
	m.Pages = realtimePanel("pages", "Top pages", "Page", rt.Pages, func(v string) string { return today(storage.DimPage, v) })
	m.Sources = realtimePanel("sources", "Top sources", "Source", rt.Sources, func(v string) string { return today(storage.DimSource, v) })
	return render(c, views.RealtimePage(m))
}

func realtimePanel(id, title, column string, rows []storage.BreakdownRow, link func(string) string) views.Panel {
	p := views.Panel{ID: id, Title: title, Columns: []string{column, "Visitors", "Pageviews"}}
	var top uint64
	for _, r := range rows {
		top = max(top, r.Visitors)
	}
	for _, r := range rows {
		bar := "0"
		if top > 0 {
			bar = barWidth(float64(r.Visitors) / float64(top))
		}
		p.Rows = append(p.Rows, views.Row{Label: shownValue(r.Value), FilterURL: link(r.Value), Cells: []string{formatCount(r.Visitors), formatCount(r.Count)}, Bar: bar})
	}
	return p
}
