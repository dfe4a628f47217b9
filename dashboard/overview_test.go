package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verityhq/verity/storage"
)

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 3, 15, 13, 45, 0, 0, time.UTC)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 0, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		query    string
		from, to time.Time
		step     Step
		label    string
	}{
		{"", day(2, 14), day(3, 16), StepDay, "Last 30 days"},
		{"period=today", day(3, 15), day(3, 16), StepHour, "Today"},
		{"period=yesterday", day(3, 14), day(3, 15), StepHour, "Yesterday"},
		{"period=7d", day(3, 9), day(3, 16), StepDay, "Last 7 days"},
		{"period=month", day(3, 1), day(3, 16), StepDay, "Month to date"},
		{"period=lastmonth", day(2, 1), day(3, 1), StepDay, "Last month"},
		{"period=12mo", time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), day(4, 1), StepMonth, "Last 12 months"},
		{"period=custom&from=2026-03-01&to=2026-03-02", day(3, 1), day(3, 3), StepHour, "1 Mar 2026 – 2 Mar 2026"},
		{"period=custom&from=2025-01-01&to=2026-01-01", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), day(1, 2), StepMonth, "1 Jan 2025 – 1 Jan 2026"},
	} {
		q, _ := url.ParseQuery(tc.query)
		p, err := ParsePeriod(q, now)
		if err != nil {
			t.Errorf("%s: %v", tc.query, err)
			continue
		}
		if !p.From.Equal(tc.from) || !p.To.Equal(tc.to) || p.Step != tc.step || p.Label != tc.label {
			t.Errorf("%s: got %s..%s %s %q, want %s..%s %s %q", tc.query, p.From, p.To, p.Step, p.Label, tc.from, tc.to, tc.step, tc.label)
		}
	}
	for _, bad := range []string{"period=forever", "period=custom", "period=custom&from=2026-03-02&to=2026-03-01", "period=custom&from=2020-01-01&to=2026-01-01", "period=custom&from=x&to=y"} {
		q, _ := url.ParseQuery(bad)
		if _, err := ParsePeriod(q, now); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// The overview shows the store's numbers for the view in the URL, the
// quality panel with every verdict, and a chart point per bucket.
func TestOverviewNumbers(t *testing.T) {
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
	stat := func(body, label string) string {
		return between(body, "<dt>"+label+"</dt><dd>", "</dd>")
	}
	for _, tc := range []struct {
		query                string
		pageviews, points    string
		activeView, activePd string
		humanEvents          string // quality panel: every view counts all verdicts
	}{
		{"", "4", "30", "Human", "Last 30 days", "4"},
		{"?view=all", "6", "30", "All", "Last 30 days", "4"},
		{"?view=suspicious", "2", "30", "Suspicious only", "Last 30 days", "4"},
		{"?period=today", "3", "24", "Human", "Today", "3"},
		{"?period=7d&view=all", "6", "7", "All", "Last 7 days", "4"},
	} {
		r := c.get(base + tc.query)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", tc.query, r.status, excerpt(r.body))
		}
		if got := stat(r.body, "Pageviews"); got != tc.pageviews {
			t.Errorf("%s: pageviews %q, want %s", tc.query, got, tc.pageviews)
		}
		if got := strings.Count(r.body, `data-testid="chart-point"`); got != atoi(tc.points) {
			t.Errorf("%s: %d chart points, want %s", tc.query, got, tc.points)
		}
		if !strings.Contains(r.body, `aria-current="page" data-testid="view-`+tc.activeView+`"`) {
			t.Errorf("%s: view %s not marked current", tc.query, tc.activeView)
		}
		if !regexp.MustCompile(`aria-current="page">` + tc.activePd + `</a>`).MatchString(r.body) {
			t.Errorf("%s: period %s not marked current", tc.query, tc.activePd)
		}
		// The quality panel counts every verdict whatever the view.
		for verdict, want := range map[string]string{"ok": tc.humanEvents, "suspect": "1", "invalid": "1"} {
			row := between(r.body, `data-testid="verdict-`+verdict+`">`, "</tr>")
			if !strings.Contains(row, `<td class="num">`+want+`</td>`) {
				t.Errorf("%s: verdict %s row %q, want count %s", tc.query, verdict, row, want)
			}
		}
		if !strings.Contains(r.body, "<code>origin_not_allowed</code></td><td class=\"num\">4</td>") {
			t.Errorf("%s: rejections missing", tc.query)
		}
		if !strings.Contains(r.body, "<code>webdriver</code>") {
			t.Errorf("%s: reason missing", tc.query)
		}
	}
	// Links keep the other parameters: the view toggle keeps the period.
	r := c.get(base + "?period=7d")
	if !strings.Contains(r.body, `href="/sites/`+f.siteA.ID.String()+`?period=7d&amp;view=all"`) {
		t.Errorf("view link drops the period:\n%s", between(r.body, `data-testid="views"`, "</nav>"))
	}
	// A tooltip per point, with the bucket and both numbers.
	if !regexp.MustCompile(`<title>[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2} \d{4}: \d+ visitors, \d+ pageviews</title>`).MatchString(r.body) {
		t.Error("chart points lack tooltips")
	}
	for _, bad := range []string{"?view=bots", "?period=forever", "?period=custom&from=2026-01-02&to=2026-01-01"} {
		if r := c.get(base + bad); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, r.status)
		}
	}
}

// Filters in the URL show as chips with links that remove them; until the
// statistics layer applies filters, the page says so instead of showing
// unfiltered numbers.
func TestOverviewFilterChips(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.signedIn(f.ownerA)
	base := "/sites/" + f.siteA.ID.String()
	r := c.get(base + "?period=7d&country=DE&page=%2Fpricing&ignored=1")
	if r.status != http.StatusOK {
		t.Fatalf("%d", r.status)
	}
	for _, want := range []string{
		`Page: <strong>/pricing</strong>`,
		`Country: <strong>DE</strong>`,
		`href="` + base + `?country=DE&amp;ignored=1&amp;period=7d" aria-label="Remove filter Page /pricing"`,
		`data-testid="notice"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("lacks %q:\n%s", want, between(r.body, `data-testid="chips"`, "</section>"))
		}
	}
	if strings.Contains(r.body, `data-testid="totals"`) {
		t.Error("unfiltered totals shown under filter chips")
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
		Referrer: payload, Verdict: "suspect", Class: payload, Reasons: []string{payload}, Ingest: "browser", PropKeys: []string{}, PropValues: []string{}}
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
		"/sites/" + s.ID.String() + "?page=" + url.QueryEscape(payload),
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

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
