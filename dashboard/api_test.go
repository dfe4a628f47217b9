package dashboard

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// apiToken stores a live token of tenant for sites and returns it.
func (f *fixture) apiToken(tenant storage.Tenant, sites ...storage.Site) (string, storage.APIToken) {
	f.t.Helper()
	token, hash := newSecret(apiTokenPrefix)
	tok := storage.APIToken{ID: uuid.New(), TenantID: tenant.ID, Name: "test", Hash: hash, CreatedAt: time.Now()}
	for _, s := range sites {
		tok.SiteIDs = append(tok.SiteIDs, s.ID)
	}
	if err := f.st.PutAPIToken(context.Background(), tok); err != nil {
		f.t.Fatal(err)
	}
	return token, tok
}

// api sends a Stats API request with authorization (if not "") from a
// network of its own.
func (f *fixture) api(method, target, authorization string) response {
	f.t.Helper()
	f.clients++
	req := httptest.NewRequest(method, target, nil)
	req.Header.Set("X-Forwarded-For", "10.200."+strconv.Itoa(f.clients/256)+"."+strconv.Itoa(f.clients%256))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := f.app.Test(req, -1)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// pageview is a pageview of site by visitor in session at ts.
func pageview(site storage.Site, ts time.Time, visitor, session uint64, path, source, verdict string) storage.Event {
	e := storage.Event{SiteID: site.ID, TS: ts, EventID: uint64(ts.UnixNano()) + visitor*7 + session, PageLoadID: uuid.New(), Seq: 1,
		Type: "pageview", Hostname: site.Domain, Pathname: path, Source: source, VisitorID: visitor, SessionID: session,
		Verdict: verdict, Ingest: "browser", PropKeys: []string{}, PropValues: []string{}, Reasons: []string{}}
	if verdict != "ok" {
		e.Class, e.Reasons = "sivt_automation", []string{"webdriver"}
	}
	return e
}

// statsDay is the fixture's first day of traffic.
var statsDay = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// statsTraffic stores, on A's site over two days: visitor 1 with two
// pageviews and 30 s of engagement from Google, visitor 2 with one pageview
// from Google, visitor 3 the next day with one direct pageview, and one
// suspect pageview; on B's site, traffic that must never show.
func (f *fixture) statsTraffic() {
	f.t.Helper()
	at := func(day, h, m int) time.Time {
		return statsDay.AddDate(0, 0, day).Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	engagement := pageview(f.siteA, at(0, 10, 6), 1, 1, "/pricing", "Google", "ok")
	engagement.Type, engagement.EngagementMS, engagement.Seq = "engagement", 30000, 2
	events := []storage.Event{
		pageview(f.siteA, at(0, 10, 0), 1, 1, "/", "Google", "ok"),
		pageview(f.siteA, at(0, 10, 5), 1, 1, "/pricing", "Google", "ok"),
		engagement,
		pageview(f.siteA, at(0, 11, 0), 2, 2, "/", "Google", "ok"),
		pageview(f.siteA, at(1, 9, 0), 3, 3, "/blog", "Direct / None", "ok"),
		pageview(f.siteA, at(0, 12, 0), 4, 4, "/", "Google", "suspect"),
		pageview(f.siteB, at(0, 10, 0), 5, 5, "/", "Google", "ok"),
		pageview(f.siteB, at(0, 10, 0), 6, 6, "/", "Bing", "ok"),
	}
	if err := f.st.InsertEvents(context.Background(), events); err != nil {
		f.t.Fatal(err)
	}
}

// decode reads r's JSON body into v.
func decode(t *testing.T, r response, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
}

type apiErrorBody struct {
	Error struct{ Code, Message string }
}

const twoDays = "period=custom&from=2026-03-10&to=2026-03-11"

func TestStatsAPINumbers(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	f.statsTraffic()
	token, _ := f.apiToken(f.tenantA, f.siteA)
	auth := "Bearer " + token
	site := "site_id=" + f.siteA.ID.String()

	r := f.api(http.MethodGet, "/api/v1/stats/aggregate?"+site+"&"+twoDays+"&compare=previous", auth)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("aggregate: %d %q %q\n%s", r.status, r.header.Get("Content-Type"), r.header.Get("Cache-Control"), r.body)
	}
	if len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("the API set cookies: %q", r.header.Values("Set-Cookie"))
	}
	checkSecurityHeaders(t, r)
	var agg struct {
		Query    apiQueryJSON
		Results  metricsJSON
		Previous *metricsJSON
	}
	decode(t, r, &agg)
	want := metricsJSON{Visitors: 3, Visits: 3, Pageviews: 4, ViewsPerVisit: 4.0 / 3, BounceRate: 2.0 / 3, VisitDurationMS: 10000}
	if !sameMetrics(agg.Results, want) {
		t.Errorf("aggregate = %+v, want %+v", agg.Results, want)
	}
	if agg.Previous == nil || *agg.Previous != (metricsJSON{}) {
		t.Errorf("previous = %+v, want zeros", agg.Previous)
	}
	if q := agg.Query; q.SiteID != f.siteA.ID.String() || q.Period != "custom" || !q.From.Equal(statsDay) || !q.To.Equal(statsDay.AddDate(0, 0, 2)) ||
		q.View != "human" || len(q.Filters) != 0 || !q.Compare {
		t.Errorf("query = %+v", q)
	}

	// The all view counts the suspect pageview; a filter narrows.
	agg.Previous = nil
	decode(t, f.api(http.MethodGet, "/api/v1/stats/aggregate?"+site+"&"+twoDays+"&view=all", auth), &agg)
	if agg.Results.Visitors != 4 || agg.Results.Pageviews != 5 || agg.Previous != nil {
		t.Errorf("all view = %+v previous %+v, want 4 visitors, 5 pageviews, no previous", agg.Results, agg.Previous)
	}
	decode(t, f.api(http.MethodGet, "/api/v1/stats/aggregate?"+site+"&"+twoDays+"&f=source:Google&f=!page:/pricing", auth), &agg)
	if agg.Results.Visitors != 2 || agg.Results.Pageviews != 2 || strings.Join(agg.Query.Filters, " ") != "source:Google !page:/pricing" {
		t.Errorf("filtered = %+v %v, want 2 visitors and 2 pageviews", agg.Results, agg.Query.Filters)
	}

	var ts struct {
		Interval string
		Results  []pointJSON
	}
	decode(t, f.api(http.MethodGet, "/api/v1/stats/timeseries?"+site+"&"+twoDays+"&interval=day", auth), &ts)
	wantPoints := []pointJSON{{Start: statsDay, Visitors: 2, Visits: 2, Pageviews: 3}, {Start: statsDay.AddDate(0, 0, 1), Visitors: 1, Visits: 1, Pageviews: 1}}
	if ts.Interval != "day" || len(ts.Results) != 2 || !samePoint(ts.Results[0], wantPoints[0]) || !samePoint(ts.Results[1], wantPoints[1]) {
		t.Errorf("timeseries = %+v, want %+v", ts, wantPoints)
	}
	decode(t, f.api(http.MethodGet, "/api/v1/stats/timeseries?"+site+"&period=custom&from=2026-03-10&to=2026-03-10", auth), &ts)
	if ts.Interval != "hour" || len(ts.Results) != 24 || ts.Results[10].Pageviews != 2 || ts.Results[11].Visitors != 1 || ts.Results[12].Pageviews != 0 {
		t.Errorf("hourly timeseries: interval %s, %d points: %+v", ts.Interval, len(ts.Results), ts.Results)
	}

	var bd struct {
		Dimension string
		Visitors  uint64
		Results   []breakdownRowJSON
	}
	decode(t, f.api(http.MethodGet, "/api/v1/stats/breakdown?"+site+"&"+twoDays+"&dimension=source", auth), &bd)
	wantRows := []breakdownRowJSON{{Value: "Google", Visitors: 2, Visits: 2, Count: 3, Share: 2.0 / 3}, {Value: "Direct / None", Visitors: 1, Visits: 1, Count: 1, Share: 1.0 / 3}}
	if bd.Dimension != "source" || bd.Visitors != 3 || len(bd.Results) != 2 || !sameRow(bd.Results[0], wantRows[0]) || !sameRow(bd.Results[1], wantRows[1]) {
		t.Errorf("breakdown = %+v, want %+v", bd, wantRows)
	}
	decode(t, f.api(http.MethodGet, "/api/v1/stats/breakdown?"+site+"&"+twoDays+"&dimension=page&limit=1", auth), &bd)
	if len(bd.Results) != 1 || bd.Results[0].Value != "/" || bd.Results[0].Visitors != 2 {
		t.Errorf("page breakdown, limit 1 = %+v", bd.Results)
	}
}

func sameMetrics(a, b metricsJSON) bool {
	return a.Visitors == b.Visitors && a.Visits == b.Visits && a.Pageviews == b.Pageviews && a.VisitDurationMS == b.VisitDurationMS &&
		math.Abs(a.ViewsPerVisit-b.ViewsPerVisit) < 1e-9 && math.Abs(a.BounceRate-b.BounceRate) < 1e-9
}

func samePoint(a, b pointJSON) bool {
	return a.Start.Equal(b.Start) && a.Visitors == b.Visitors && a.Visits == b.Visits && a.Pageviews == b.Pageviews
}

func sameRow(a, b breakdownRowJSON) bool {
	return a.Value == b.Value && a.Visitors == b.Visitors && a.Visits == b.Visits && a.Count == b.Count && math.Abs(a.Share-b.Share) < 1e-9
}

// TestStatsAPIAccess: a token reads only its tenant's sites in its scope;
// everything else is the same 404, and a bad credential the same 401.
func TestStatsAPIAccess(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	f.statsTraffic()
	siteA2 := f.site(f.tenantA, "second.acme.example")
	tokenA, tokA := f.apiToken(f.tenantA, f.siteA)
	tokenB, _ := f.apiToken(f.tenantB, f.siteB)
	// A token of B that names A's site (no dashboard makes one): the
	// tenant check still refuses it.
	forged, _ := f.apiToken(f.tenantB, f.siteB, f.siteA)
	path := func(s storage.Site) string { return "/api/v1/stats/aggregate?site_id=" + s.ID.String() + "&" + twoDays }

	for _, tc := range []struct {
		name, auth, path string
		status           int
		code             string
	}{
		{"own site", "Bearer " + tokenA, path(f.siteA), 200, ""},
		{"scheme in lower case", "bearer " + tokenA, path(f.siteA), 200, ""},
		{"B's token on B's site", "Bearer " + tokenB, path(f.siteB), 200, ""},
		{"A's token on B's site", "Bearer " + tokenA, path(f.siteB), 404, "not_found"},
		{"B's token on A's site", "Bearer " + tokenB, path(f.siteA), 404, "not_found"},
		{"forged scope across tenants", "Bearer " + forged, path(f.siteA), 404, "not_found"},
		{"site outside the token's scope", "Bearer " + tokenA, path(siteA2), 404, "not_found"},
		{"unknown site", "Bearer " + tokenA, "/api/v1/stats/aggregate?site_id=" + uuid.NewString(), 404, "not_found"},
		{"unknown endpoint", "Bearer " + tokenA, "/api/v1/stats/everything?" + "site_id=" + f.siteA.ID.String(), 404, "not_found"},
		{"no header", "", path(f.siteA), 401, "unauthorized"},
		{"basic auth", "Basic dXNlcjpwYXNz", path(f.siteA), 401, "unauthorized"},
		{"garbled token", "Bearer vt_!!", path(f.siteA), 401, "unauthorized"},
		{"bearer without token", "Bearer ", path(f.siteA), 401, "unauthorized"},
		{"unknown token of the right shape", "Bearer vt_" + strings.Repeat("A", 43), path(f.siteA), 401, "unauthorized"},
		{"session token in place of an API token", "Bearer " + strings.TrimPrefix(tokenA, apiTokenPrefix), path(f.siteA), 401, "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.api(http.MethodGet, tc.path, tc.auth)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tc.status, r.body)
			}
			if tc.code != "" {
				var e apiErrorBody
				decode(t, r, &e)
				if e.Error.Code != tc.code || e.Error.Message == "" {
					t.Errorf("error = %+v, want code %s", e.Error, tc.code)
				}
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") != `Bearer realm="verity"` {
				t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
			}
			if len(r.header.Values("Set-Cookie")) != 0 || r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("cookies %q or security headers missing", r.header.Values("Set-Cookie"))
			}
		})
	}

	// B's numbers never leak into A's answer (and the other way round).
	var agg struct{ Results metricsJSON }
	decode(t, f.api(http.MethodGet, path(f.siteB), "Bearer "+tokenB), &agg)
	if agg.Results.Visitors != 2 {
		t.Errorf("B's visitors = %d, want 2", agg.Results.Visitors)
	}

	// Revoking the token in the dashboard ends it at once.
	c := f.signedIn(f.ownerA)
	if r := c.post("/tenants/"+f.tenantA.ID.String()+"/tokens/"+tokA.ID.String()+"/revoke", nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	r := f.api(http.MethodGet, path(f.siteA), "Bearer "+tokenA)
	var e apiErrorBody
	decode(t, r, &e)
	if r.status != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
		t.Errorf("revoked token: %d %+v, want 401", r.status, e)
	}

	// A token made in the dashboard works as shown.
	page := c.post("/tenants/"+f.tenantA.ID.String()+"/tokens", url.Values{"name": {"ci"}, "site": {siteA2.ID.String()}})
	made := between(page.body, "<pre><code>", "</code>")
	if r := f.api(http.MethodGet, path(siteA2), "Bearer "+made); r.status != http.StatusOK {
		t.Errorf("dashboard-made token: %d %s", r.status, r.body)
	}
}

func TestStatsAPIRejectsBadRequests(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	token, _ := f.apiToken(f.tenantA, f.siteA)
	auth := "Bearer " + token
	site := "site_id=" + f.siteA.ID.String()
	for _, tc := range []struct{ path, param string }{
		{"/api/v1/stats/aggregate?" + twoDays, "site_id"},
		{"/api/v1/stats/aggregate?site_id=42", "site_id"},
		{"/api/v1/stats/aggregate?" + site + "&site_id=" + f.siteA.ID.String(), "site_id"},
		{"/api/v1/stats/aggregate?" + site + "&period=fortnight", "period"},
		{"/api/v1/stats/aggregate?" + site + "&period=custom&from=2026-13-01&to=2026-12-31", "from"},
		{"/api/v1/stats/aggregate?" + site + "&view=robots", "view"},
		{"/api/v1/stats/aggregate?" + site + "&compare=yes", "compare"},
		{"/api/v1/stats/aggregate?" + site + "&f=planet:Mars", "planet"},
		{"/api/v1/stats/aggregate?" + site + "&colour=blue", "colour"},
		{"/api/v1/stats/aggregate?" + site + "&interval=day", "interval"}, // only the time series has one
		{"/api/v1/stats/timeseries?" + site + "&interval=week", "interval"},
		{"/api/v1/stats/timeseries?" + site + "&period=12mo&interval=hour", "interval"},
		{"/api/v1/stats/breakdown?" + site, "dimension"},
		{"/api/v1/stats/breakdown?" + site + "&dimension=shoe_size", "shoe_size"},
		{"/api/v1/stats/breakdown?" + site + "&dimension=source&limit=0", "limit"},
		{"/api/v1/stats/breakdown?" + site + "&dimension=source&limit=ten", "limit"},
		{"/api/v1/stats/aggregate?" + site + "&period=%zz", "query string"},
	} {
		r := f.api(http.MethodGet, tc.path, auth)
		var e apiErrorBody
		decode(t, r, &e)
		if r.status != http.StatusBadRequest || e.Error.Code != "invalid_parameter" || !strings.Contains(e.Error.Message, tc.param) {
			t.Errorf("%s: %d %+v, want 400 naming %q", tc.path, r.status, e.Error, tc.param)
		}
	}
	// Read-only: every other method is 405, with or without a token.
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions} {
		for _, a := range []string{auth, ""} {
			r := f.api(m, "/api/v1/stats/aggregate?"+site, a)
			var e apiErrorBody
			decode(t, r, &e)
			if r.status != http.StatusMethodNotAllowed || e.Error.Code != "method_not_allowed" || r.header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s (auth %v): %d %+v Allow %q, want 405", m, a != "", r.status, e, r.header.Get("Allow"))
			}
		}
	}
	if r := f.api(http.MethodHead, "/api/v1/stats/aggregate?"+site, auth); r.status != http.StatusOK {
		t.Errorf("HEAD: %d", r.status)
	}
}

func TestStatsAPIRateLimit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.APIRequestsPerMinute = 3
	f := newFixture(t, cfg)
	token, _ := f.apiToken(f.tenantA, f.siteA)
	other, _ := f.apiToken(f.tenantA, f.siteA)
	path := "/api/v1/stats/aggregate?site_id=" + f.siteA.ID.String()
	for i := range 3 {
		// From a new network each time: the limit is the token's.
		if r := f.api(http.MethodGet, path, "Bearer "+token); r.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.body)
		}
	}
	r := f.api(http.MethodGet, path, "Bearer "+token)
	var e apiErrorBody
	decode(t, r, &e)
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || e.Error.Code != "rate_limited" || err != nil || retry < 1 || retry > 60 {
		t.Errorf("4th request: %d %+v Retry-After %q, want 429 with 1..60", r.status, e, r.header.Get("Retry-After"))
	}
	for _, h := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"} {
		if r.header.Get(h) != "" {
			t.Errorf("%s sent", h)
		}
	}
	if r := f.api(http.MethodGet, path, "Bearer "+other); r.status != http.StatusOK {
		t.Errorf("another token of the same tenant: %d, want 200", r.status)
	}
}

// TestStatsAPIThrottlesFailedAuthentication: one network's failed
// authentications are capped, successful requests from it are not counted.
func TestStatsAPIThrottlesFailedAuthentication(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	token, _ := f.apiToken(f.tenantA, f.siteA)
	send := func(auth string) int {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/stats/aggregate?site_id="+f.siteA.ID.String(), nil)
		req.Header.Set("X-Forwarded-For", "10.250.0.1")
		req.Header.Set("Authorization", auth)
		resp, err := f.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := send("Bearer " + token); s != http.StatusOK {
		t.Fatalf("good token: %d", s)
	}
	for i := range apiAuthFailuresMax {
		if s := send("Bearer nope"); s != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, s)
		}
	}
	if s := send("Bearer nope"); s != http.StatusTooManyRequests {
		t.Errorf("failure %d: %d, want 429", apiAuthFailuresMax+1, s)
	}
}

func TestAPIRateConfig(t *testing.T) {
	if got := DefaultConfig().APIRequestsPerMinute; got != 120 {
		t.Errorf("default api_requests_per_minute = %d, want the documented 120", got)
	}
	cfg := DefaultConfig()
	for _, n := range []int{0, -5} {
		cfg.APIRequestsPerMinute = n
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "dashboard.api_requests_per_minute") {
			t.Errorf("%d: %v, want an error naming the option", n, err)
		}
	}
	cfg.APIRequestsPerMinute = 1
	if err := cfg.Validate(); err != nil {
		t.Errorf("1: %v", err)
	}
}
