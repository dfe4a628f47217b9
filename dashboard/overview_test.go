package dashboard

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// visit is one session of the overview's test data.
type visit struct {
	ago      time.Duration // before now: the first pageview
	pages    []string
	source   string
	country  string
	verdict  string
	campaign string
	engaged  uint32 // ms, as one engagement event
	event    string // a custom event, with prop plan=pro
	vital    float64
	domProb  string // a DOM-check finding on the first page
}

// visits stores vs as site's sessions, each its own visitor.
func (f *fixture) visits(site storage.Site, now time.Time, vs ...visit) {
	f.t.Helper()
	var es []storage.Event
	for _, v := range vs {
		f.eventSeq++
		visitor := f.eventSeq
		ts := now.Add(-v.ago).UTC().Truncate(time.Second)
		base := storage.Event{SiteID: site.ID, VisitorID: visitor, SessionID: visitor, Hostname: site.Domain, Country: v.country,
			Device: "desktop", Browser: "Chrome", BrowserVersion: "131.0", OS: "Windows", OSVersion: "10",
			Verdict: v.verdict, Ingest: "browser", PropKeys: []string{}, PropValues: []string{}, Reasons: []string{}}
		if base.Verdict == "" {
			base.Verdict = "ok"
		}
		if base.Verdict != "ok" {
			base.Class, base.Reasons = "sivt_automation", []string{"webdriver"}
		}
		add := func(typ, name, path string, at time.Time, edit func(*storage.Event)) {
			f.eventSeq++
			e := base
			e.EventID, e.PageLoadID, e.Seq, e.Type, e.Name, e.Pathname, e.TS = f.eventSeq, uuid.New(), 1, typ, name, path, at
			if edit != nil {
				edit(&e)
			}
			es = append(es, e)
		}
		for i, p := range v.pages {
			at := ts.Add(time.Duration(i) * time.Second)
			add("pageview", "", p, at, func(e *storage.Event) {
				e.Source, e.Channel = "Direct / None", "direct"
				if i == 0 && v.source != "" {
					e.Source, e.Channel, e.UTMCampaign = v.source, "search", v.campaign
				}
			})
		}
		if v.engaged > 0 {
			add("engagement", "", v.pages[0], ts, func(e *storage.Event) { e.EngagementMS = v.engaged })
		}
		if v.event != "" {
			add("custom", v.event, v.pages[0], ts, func(e *storage.Event) { e.PropKeys, e.PropValues = []string{"plan"}, []string{"pro"} })
		}
		if v.vital > 0 {
			add("vital", "LCP", v.pages[0], ts, func(e *storage.Event) { e.Value = v.vital })
		}
		if v.domProb != "" {
			add("dom_check", "checked", v.pages[0], ts, func(e *storage.Event) { e.Value = 1 })
			add("dom_check", v.domProb, v.pages[0], ts, func(e *storage.Event) { e.Value = 1 })
		}
	}
	if err := f.st.InsertEvents(context.Background(), es); err != nil {
		f.t.Fatal(err)
	}
}

// overviewData is the test data of the overview tests: on site A this
// week three human visits (four pageviews), one suspicious, and last week
// one; on site B (another tenant) plenty, which must never show.
func (f *fixture) overviewData(now time.Time) {
	f.t.Helper()
	f.visits(f.siteA, now,
		visit{ago: time.Minute, pages: []string{"/", "/pricing"}, source: "Google", country: "DE", engaged: 30_000, event: "signup", vital: 1800, domProb: "img_no_alt"},
		visit{ago: 20 * time.Minute, pages: []string{"/"}, source: "Google", country: "FR", campaign: `=HYPERLINK("http://evil.example")`, vital: 5000},
		visit{ago: 2 * time.Hour, pages: []string{"/blog"}, country: "DE"},
		visit{ago: 3 * time.Hour, pages: []string{"/"}, source: "Bing", country: "US", verdict: "suspect"},
		visit{ago: 10 * 24 * time.Hour, pages: []string{"/"}, source: "Google", country: "DE"},
	)
	f.visits(f.siteB, now,
		visit{ago: time.Minute, pages: []string{"/", "/b", "/c"}, source: "Google", country: "DE", event: "signup"},
		visit{ago: time.Minute, pages: []string{"/"}, source: "Google", country: "DE"},
	)
}

// stat reads a headline number and its change from the page.
func stat(body, label string) (value, change string) {
	block := between(body, `data-testid="stat-`+label+`"`, "</div>")
	value = between(block, "<dd>", "</dd>")
	ch := between(block, `class="change`, "<span")
	change = strings.TrimSpace(ch[strings.Index(ch, ">")+1:])
	return html.UnescapeString(value), html.UnescapeString(change)
}

// panelRows reads a panel's rows as "label|cell|cell...".
func panelRows(body, panel string) []string {
	sec := between(body, `data-testid="panel-`+panel+`"`, "</section>")
	var out []string
	for _, tr := range strings.Split(sec, `<tr data-testid="row">`)[1:] {
		label := between(tr, `data-testid="filter-link">`, "</a>")
		row := html.UnescapeString(label)
		for _, td := range regexp.MustCompile(`<td class="num">([^<]*)</td>`).FindAllStringSubmatch(tr, -1) {
			row += "|" + td[1]
		}
		out = append(out, row)
	}
	return out
}

// rowLink is the filter link of the panel's row labelled label.
func rowLink(t *testing.T, body, panel, label string) string {
	t.Helper()
	sec := between(body, `data-testid="panel-`+panel+`"`, "</section>")
	m := regexp.MustCompile(`<a href="([^"]*)" class="filter" title="[^"]*" data-testid="filter-link">` + regexp.QuoteMeta(label) + `</a>`).FindStringSubmatch(sec)
	if m == nil {
		t.Fatalf("no row %q in panel %s:\n%s", label, panel, sec)
	}
	return html.UnescapeString(m[1])
}

// The overview shows exact numbers from the statistics layer; clicking a
// row adds its filter (a chip) and changes the numbers; filters combine
// and are removed by their chip's link.
func TestOverviewNumbersAndFilters(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	now := time.Now().UTC()
	f.overviewData(now)
	c := f.signedIn(f.viewerA)
	base := "/sites/" + f.siteA.ID.String()

	r := c.get(base + "?period=7d")
	if r.status != http.StatusOK {
		t.Fatalf("%d\n%s", r.status, excerpt(r.body))
	}
	for label, want := range map[string][2]string{
		"Unique visitors": {"3", "+200%"}, "Visits": {"3", "+200%"}, "Pageviews": {"4", "+300%"},
		"Views per visit": {"1.33", "+33%"}, "Bounce rate": {"67%", "−33 pts"}, "Visit duration": {"10s", "new"},
	} {
		if v, ch := stat(r.body, label); v != want[0] || ch != want[1] {
			t.Errorf("%s = %q %q, want %q %q", label, v, ch, want[0], want[1])
		}
	}
	for panel, want := range map[string][]string{
		"sources":   {"Google|2|3|67%", "Direct / None|1|1|33%"},
		"pages":     {"/|2|2|67%", "/blog|1|1|33%", "/pricing|1|1|33%"},
		"locations": {"DE|2|3|67%", "FR|1|1|33%"},
		"devices":   {"desktop|3|4|100%"},
		"events":    {"signup|1|1|33%"},
	} {
		if got := panelRows(r.body, panel); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("panel %s = %q, want %q", panel, got, want)
		}
	}
	vitals := between(r.body, `data-testid="vitals-site"`, "</tr>")
	if !strings.Contains(vitals, `data-rating="poor">5.00 s`) && !strings.Contains(vitals, `data-rating="needs-improvement">1.80 s`) {
		t.Errorf("site LCP p75 not shown with its rating: %s", vitals)
	}
	dom := between(r.body, `data-testid="dom-page"`, "</tr>")
	if !strings.Contains(dom, ">/</a>") || !strings.Contains(dom, "Images without alt text (100%)") {
		t.Errorf("DOM findings row = %s", dom)
	}
	if strings.Contains(r.body, `data-testid="empty"`) || strings.Contains(r.body, `data-testid="chips"`) {
		t.Error("empty state or chips without reason")
	}

	// Tabs are links that keep the state.
	tab := c.get(base + "?period=7d&sources=utm_campaign")
	if got := panelRows(tab.body, "sources"); len(got) != 2 || got[0] != "(none)|2|3|67%" || got[1] != `=HYPERLINK("http://evil.example")|1|1|33%` {
		t.Errorf("UTM campaign tab = %q", got)
	}
	if !strings.Contains(tab.body, `href="`+base+`?period=7d&amp;sources=utm_campaign&amp;view=all"`) {
		t.Error("the view toggle drops the tab")
	}

	// Click "Google": the chip shows and the numbers change.
	link := rowLink(t, r.body, "sources", "Google")
	if link != base+"?f=source%3AGoogle&period=7d" {
		t.Errorf("row link = %q", link)
	}
	r = c.get(link)
	if !strings.Contains(r.body, `Source: <strong>Google</strong>`) {
		t.Fatalf("no chip:\n%s", between(r.body, `data-testid="period"`, `data-testid="totals"`))
	}
	if v, _ := stat(r.body, "Unique visitors"); v != "2" {
		t.Errorf("filtered visitors = %q, want 2", v)
	}
	if v, _ := stat(r.body, "Pageviews"); v != "3" {
		t.Errorf("filtered pageviews = %q, want 3", v)
	}
	if !strings.Contains(r.body, `data-testid="quality-unfiltered"`) {
		t.Error("the quality panel does not say filters do not apply to it")
	}
	// Then "FR" in locations: both filters hold.
	r = c.get(rowLink(t, r.body, "locations", "FR"))
	if v, _ := stat(r.body, "Pageviews"); v != "1" || strings.Count(r.body, `data-testid="chip"`) != 2 {
		t.Errorf("two filters: pageviews %q, %d chips", v, strings.Count(r.body, `data-testid="chip"`))
	}
	// Removing the Google chip keeps FR.
	rm := html.UnescapeString(regexp.MustCompile(`<a href="([^"]*)" aria-label="Remove filter Source Google"`).FindStringSubmatch(r.body)[1])
	if rm != base+"?f=country%3AFR&period=7d" {
		t.Errorf("remove link = %q", rm)
	}
	// The event's row shows its properties.
	r = c.get(rowLink(t, c.get(base+"?period=7d").body, "events", "signup"))
	if got := panelRows(r.body, "props"); len(got) != 1 || got[0] != "pro|1|1|100%" {
		t.Errorf("properties of signup = %q", got)
	}
	// A filter that matches nothing says so.
	r = c.get(base + "?period=7d&f=country:JP")
	if !strings.Contains(r.body, "No visits match these filters") || strings.Contains(r.body, `data-testid="empty-snippet"`) {
		t.Errorf("no-match state missing:\n%s", between(r.body, `data-testid="chips"`, `data-testid="totals"`))
	}
	// A period without data shows the snippet to install.
	r = c.get(base + "?period=custom&from=2025-01-01&to=2025-01-31")
	if !strings.Contains(r.body, `data-testid="empty-snippet"`) || !strings.Contains(r.body, f.siteA.PublicKey) {
		t.Error("empty period without the install snippet")
	}
}

// The view toggle changes the numbers; the quality panel counts every
// verdict whatever the view; a chart point per bucket with its tooltip.
func TestOverviewViewsAndChart(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	now := time.Now().UTC()
	f.events(f.siteA, now.Add(-time.Minute), "ok", "ok", "ok", "suspect", "invalid")
	f.events(f.siteA, now.AddDate(0, 0, -3), "ok")
	f.events(f.siteB, now.Add(-time.Minute), "ok", "ok", "ok", "ok", "ok", "ok", "ok") // another tenant
	if err := f.st.InsertRejections(context.Background(), []storage.Rejection{{SiteID: f.siteA.ID, Minute: now.Truncate(time.Minute), Reason: "origin_not_allowed", Count: 4}}); err != nil {
		t.Fatal(err)
	}
	c := f.signedIn(f.viewerA)
	base := "/sites/" + f.siteA.ID.String()
	for _, tc := range []struct {
		query                string
		pageviews            string
		points               int
		activeView, activePd string
		humanEvents          string
	}{
		{"", "4", 30, "Human", "Last 30 days", "4"},
		{"?view=all", "6", 30, "All", "Last 30 days", "4"},
		{"?view=suspicious", "2", 30, "Suspicious only", "Last 30 days", "4"},
		{"?period=today", "3", 24, "Human", "Today", "3"},
		{"?period=7d&view=all", "6", 7, "All", "Last 7 days", "4"},
	} {
		r := c.get(base + tc.query)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tc.query, r.status, excerpt(r.body))
		}
		if got, _ := stat(r.body, "Pageviews"); got != tc.pageviews {
			t.Errorf("%s: pageviews %q, want %s", tc.query, got, tc.pageviews)
		}
		if got := strings.Count(r.body, `data-testid="chart-point"`); got != tc.points {
			t.Errorf("%s: %d chart points, want %d", tc.query, got, tc.points)
		}
		if !strings.Contains(r.body, `aria-current="page" data-testid="view-`+tc.activeView+`"`) {
			t.Errorf("%s: view %s not marked current", tc.query, tc.activeView)
		}
		if !strings.Contains(r.body, `aria-current="page">`+tc.activePd+`</a>`) {
			t.Errorf("%s: period %s not marked current", tc.query, tc.activePd)
		}
		for verdict, want := range map[string]string{"ok": tc.humanEvents, "suspect": "1", "invalid": "1"} {
			row := between(r.body, `data-testid="verdict-`+verdict+`">`, "</tr>")
			if !strings.Contains(row, `<td class="num">`+want+`</td>`) {
				t.Errorf("%s: verdict %s row %q, want count %s", tc.query, verdict, row, want)
			}
		}
		if !strings.Contains(r.body, "<code>origin_not_allowed</code></td><td class=\"num\">4</td>") || !strings.Contains(r.body, "<code>webdriver</code>") {
			t.Errorf("%s: rejections or reasons missing", tc.query)
		}
	}
	r := c.get(base + "?period=7d")
	if !strings.Contains(r.body, `href="`+base+`?period=7d&amp;view=all"`) {
		t.Errorf("view link drops the period:\n%s", between(r.body, `data-testid="views"`, "</nav>"))
	}
	if !regexp.MustCompile(`<title>[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2} \d{4}: \d+ visitors, \d+ pageviews</title>`).MatchString(r.body) {
		t.Error("chart points lack tooltips")
	}
	// The custom-period form carries the other parameters.
	r = c.get(base + "?view=all&f=page:/&pages=exit_page")
	form := between(r.body, `data-testid="custom-range"`, "</form>")
	for _, want := range []string{`name="f" value="page:/"`, `name="pages" value="exit_page"`, `name="view" value="all"`} {
		if !strings.Contains(form, want) {
			t.Errorf("custom-period form lacks %s: %s", want, form)
		}
	}
}

// A bad query string is a 400 page that says what is wrong.
func TestOverviewBadQuery(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.signedIn(f.viewerA)
	base := "/sites/" + f.siteA.ID.String()
	for q, want := range map[string]string{
		"?view=bots":      "unknown view",
		"?period=forever": "forever",
		"?period=custom&from=2026-01-02&to=2026-01-01": "before from",
		"?f=planet:Mars":               "unknown dimension",
		"?country=DE":                  "unknown parameter",
		"?sources=page":                "not a tab of Sources",
		"?site=" + f.siteB.ID.String(): "unknown parameter",
		"?period=7d&period=30d":        "given 2 times",
	} {
		r := c.get(base + q)
		if r.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(r.body), want) {
			t.Errorf("%s: %d, want 400 saying %q\n%s", q, r.status, want, excerpt(r.body))
		}
	}
}

// Stored text with markup (site and tenant names, a member's name, a token
// name, filter values from the URL, an event's title and path) is escaped
// wherever it is shown; and the CSP would refuse inline script anyway.
func TestStoredMarkupIsInert(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	const payload = `"><script>alert(1)</script><img src=x onerror=alert(2)>`
	ctx := context.Background()
	s := f.siteA
	s.Name = "Evil " + payload
	if err := f.st.PutSite(ctx, s); err != nil {
		t.Fatal(err)
	}
	evil := f.member(f.tenantA, storage.RoleViewer)
	evil.Name = payload
	if err := f.st.UpdateUser(ctx, evil); err != nil {
		t.Fatal(err)
	}
	ev := storage.Event{SiteID: s.ID, TS: time.Now().UTC().Truncate(time.Second), EventID: 99, Type: "pageview", Title: payload, Pathname: "/" + payload,
		Referrer: payload, Source: payload, Verdict: "suspect", Class: payload, Reasons: []string{payload}, Ingest: "browser", PropKeys: []string{}, PropValues: []string{}}
	if err := f.st.InsertEvents(ctx, []storage.Event{ev}); err != nil {
		t.Fatal(err)
	}
	c := f.signedIn(f.ownerA)
	if r := c.post("/tenants/"+f.tenantA.ID.String()+"/tokens", url.Values{"name": {payload}, "site": {s.ID.String()}}); r.status != http.StatusOK {
		t.Fatalf("token: %d", r.status)
	}
	pages := []string{
		"/sites",
		"/sites/" + s.ID.String(),
		"/sites/" + s.ID.String() + "?view=all",
		"/sites/" + s.ID.String() + "?f=" + url.QueryEscape("page:"+payload),
		"/sites/" + s.ID.String() + "/realtime",
		"/sites/" + s.ID.String() + "/settings",
		"/tenants/" + f.tenantA.ID.String() + "/members",
		"/tenants/" + f.tenantA.ID.String() + "/tokens",
	}
	shown := 0
	for _, p := range pages {
		r := c.get(p)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", p, r.status)
		}
		for _, raw := range []string{"<script>alert", "<img src=x"} {
			if strings.Contains(r.body, raw) {
				t.Errorf("%s renders %q unescaped", p, raw)
			}
		}
		if strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			shown++
		}
	}
	if shown < len(pages)-1 {
		t.Errorf("the escaped payload appears on %d of %d pages; the test would prove little", shown, len(pages))
	}
}
