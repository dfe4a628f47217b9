package collector_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/collector"
	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

const chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"

// rig is a collector built by the production constructor on a real
// ClickHouse, with two sites of one tenant.
type rig struct {
	t      testing.TB
	cfg    storage.Config
	st     *storage.Store
	writer *storage.Writer
	h      *collector.Handler
	app    interface {
		Test(*http.Request, ...int) (*http.Response, error)
	}
	siteA, siteB storage.Site
	keys         *abuse.Keyring
	cancel       context.CancelFunc
}

func newRig(t testing.TB) *rig { return newRigWith(t, nil) }

// newRigWith lets a test change the two sites before they are stored.
func newRigWith(t testing.TB, edit func(a, b *storage.Site)) *rig {
	t.Helper()
	return newRigSetup(t, edit, nil)
}

// newRigSetup also lets a test store what the collector loads at start
// (site rules) once the sites exist.
func newRigSetup(t testing.TB, edit func(a, b *storage.Site), setup func(st *storage.Store, a, b storage.Site)) *rig {
	t.Helper()
	wcfg := storage.DefaultWriterConfig()
	wcfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	wcfg.FlushInterval = 50 * time.Millisecond
	return newRigOn(t, chtest.Config(t), wcfg, edit, setup)
}

// newRigOn builds the rig on the database cfg names (created, not yet
// migrated) with a writer configured by wcfg.
func newRigOn(t testing.TB, cfg storage.Config, wcfg storage.WriterConfig, edit func(a, b *storage.Site), setup func(st *storage.Store, a, b storage.Site)) *rig {
	t.Helper()
	st := chtest.StoreFor(t, cfg)
	ctx := context.Background()
	tenant, err := st.CreateTenant(ctx, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, cfg: cfg, st: st}
	r.siteA = storage.Site{ID: uuid.New(), TenantID: tenant.ID, Domain: "acme.example", PublicKey: "pk_siteaaaaaaaaaaaaaaaaaaaaaaaa", AllowedOrigins: []string{"https://acme.example", "https://*.acme.example"}}
	r.siteB = storage.Site{ID: uuid.New(), TenantID: tenant.ID, Domain: "beta.example", PublicKey: "pk_sitebbbbbbbbbbbbbbbbbbbbbbbb", AllowedOrigins: []string{"https://beta.example"}}
	if edit != nil {
		edit(&r.siteA, &r.siteB)
	}
	for _, s := range []storage.Site{r.siteA, r.siteB} {
		if err := st.PutSite(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if setup != nil {
		setup(st, r.siteA, r.siteB)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if r.writer, err = storage.NewWriter(wcfg, st, log); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(100 + i)
	}
	keys, err := abuse.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	r.keys = keys
	if r.h, err = collector.New(collector.DefaultConfig(), collector.Deps{Queue: r.writer, DB: st, Sites: st, Rejections: st, Keys: keys, Log: log}); err != nil {
		t.Fatal(err)
	}
	var runCtx context.Context
	runCtx, r.cancel = context.WithCancel(ctx)
	if err := r.h.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	r.app = r.h.App()
	return r
}

// finish drains the writer and the rejection counters into ClickHouse.
func (r *rig) finish() {
	r.t.Helper()
	r.cancel()
	if err := r.writer.Close(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	if err := r.h.Close(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) post(path, origin, ua, contentType, body string) (int, map[string]any) {
	r.t.Helper()
	return r.postWith(path, origin, ua, contentType, body, nil)
}

// postWith posts with a browser's usual headers, changed by headers (an
// empty value removes one).
func (r *rig) postWith(path, origin, ua, contentType, body string, headers map[string]string) (int, map[string]any) {
	r.t.Helper()
	status, _, out := r.send(path, origin, ua, contentType, body, headers)
	return status, out
}

// send is postWith that also gives the response headers.
func (r *rig) send(path, origin, ua, contentType, body string, headers map[string]string) (int, http.Header, map[string]any) {
	r.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("User-Agent", ua)
	// What every browser sends with fetch() (the scorer checks for them).
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.8")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := r.app.Test(req, -1)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		r.t.Fatalf("POST %s: %d, body not JSON: %q", path, resp.StatusCode, b)
	}
	if origin != "" && resp.Header.Get("Access-Control-Allow-Origin") != origin {
		r.t.Errorf("POST %s: Access-Control-Allow-Origin = %q, want %q", path, resp.Header.Get("Access-Control-Allow-Origin"), origin)
	}
	return resp.StatusCode, resp.Header, out
}

// pageLoad does what the snippet does: get a token, solve its puzzle.
func (r *rig) pageLoad(site storage.Site, origin string) (token string, n uint32) {
	r.t.Helper()
	status, body := r.post("/api/challenge", origin, chromeUA, "text/plain;charset=UTF-8",
		fmt.Sprintf(`{"site":%q,"url":"https://www.acme.example/pricing?utm_source=newsletter"}`, site.PublicKey))
	if status != 200 {
		r.t.Fatalf("challenge: %d %v", status, body)
	}
	pow := body["pow"].(map[string]any)
	plid, _ := hex.DecodeString(pow["plid"].(string))
	target, _ := hex.DecodeString(pow["target"].(string))
	max := uint32(pow["max"].(float64))
	if max != 2000 {
		r.t.Fatalf("pow max %d, want tier 0 (2000)", max)
	}
	for n := uint32(0); n <= max; n++ {
		if abuse.CheckPoW([16]byte(plid), n, [16]byte(target), max) {
			return body["token"].(string), n
		}
	}
	r.t.Fatal("puzzle has no solution")
	return "", 0
}

func eventBody(token string, n uint32, seq int, events string) string {
	return fmt.Sprintf(`{"token":%q,"n":%d,"solve_ms":12,"seq":%d,"events":[%s]}`, token, n, seq, events)
}

const firstBatch = `{"type":"pageview","url":"https://www.acme.example/pricing?utm_source=newsletter&utm_medium=email","referrer":"https://www.google.com/","title":"Pricing","screen_w":1440,"lang":"de-DE","tz":"Europe/Berlin"},
{"type":"vital","url":"https://www.acme.example/pricing","name":"TTFB","value":87},
{"type":"dom_check","url":"https://www.acme.example/pricing","checks":{"title":[1,7],"description":[0,0],"h1":[2,5],"canonical":[1,0],"lang":[1,0],"viewport":[1,0],"img_no_alt":[3,0],"noindex":[0,0]}},
{"type":"custom","url":"https://www.acme.example/pricing","name":"signup","props":{"plan":"pro","b":"x"}},
{"type":"outbound","url":"https://www.acme.example/pricing","href":"https://partner.example/x"}`

const secondBatch = `{"type":"engagement","url":"https://www.acme.example/pricing","ms":5400,"scroll":80}`

func TestIngestEndToEnd(t *testing.T) {
	r := newRig(t)
	origin := "https://www.acme.example"
	token, n := r.pageLoad(r.siteA, origin)

	status, body := r.post("/api/event", origin, chromeUA, "text/plain", eventBody(token, n, 1, firstBatch))
	if status != 202 || body["accepted"] != float64(8) {
		t.Fatalf("first batch: %d %v; want 202 with 8 rows: 4 events, and the DOM check as checked plus 3 findings", status, body)
	}
	status, body = r.post("/api/event", origin, chromeUA, "text/plain", eventBody(token, n, 2, secondBatch))
	if status != 202 || body["accepted"] != float64(1) {
		t.Fatalf("second batch: %d %v", status, body)
	}

	// Every attack is refused with its own status and code, and counted.
	// Change one character inside the page-load id to another valid
	// base64url character: the token still decodes, the MAC must fail.
	flipped := []byte(token)
	flipped[40] = 'A'
	if token[40] == 'A' {
		flipped[40] = 'B'
	}
	otherToken, otherN := r.pageLoad(r.siteB, "https://beta.example")
	attacks := []struct {
		name, origin, ua, ct, body string
		status                     int
		code                       string
	}{
		{"replayed batch", origin, chromeUA, "text/plain", eventBody(token, n, 1, firstBatch), 409, "replay"},
		{"flipped token byte", origin, chromeUA, "text/plain", eventBody(string(flipped), n, 3, secondBatch), 401, ""},
		{"wrong proof of work", origin, chromeUA, "text/plain", eventBody(token, n+1, 3, secondBatch), 401, "pow_invalid"},
		{"other UA", origin, "curl/8.0", "text/plain", eventBody(token, n, 3, secondBatch), 401, "token_ua_mismatch"},
		{"spoofed Origin", "https://evil.example", chromeUA, "text/plain", eventBody(token, n, 3, secondBatch), 403, "origin_not_allowed"},
		{"token of another site", origin, chromeUA, "text/plain", eventBody(otherToken, otherN, 1, secondBatch), 403, "origin_not_allowed"},
		{"no token (non-browser client)", "", "python-requests/2.31", "application/json", `{"n":0,"seq":1,"events":[` + secondBatch + `]}`, 400, "invalid_field"},
		{"unknown field", origin, chromeUA, "text/plain", `{"token":"x","n":0,"seq":1,"events":[],"evil":1}`, 400, "malformed_json"},
		{"wrong content type", origin, chromeUA, "application/x-www-form-urlencoded", eventBody(token, n, 3, secondBatch), 415, "unsupported_media_type"},
		{"unknown event type", origin, chromeUA, "text/plain", eventBody(token, n, 3, `{"type":"hack","url":"https://acme.example/"}`), 400, "invalid_field"},
	}
	for _, a := range attacks {
		status, body := r.post("/api/event", a.origin, a.ua, a.ct, a.body)
		code, _ := body["error"].(map[string]any)["code"].(string)
		if status != a.status || (a.code != "" && code != a.code) {
			t.Errorf("%s: %d %v, want %d %s", a.name, status, body, a.status, a.code)
		}
	}
	if status, body := r.post("/api/challenge", "https://evil.example", chromeUA, "text/plain", `{"site":"`+r.siteA.PublicKey+`","url":"https://evil.example/"}`); status != 403 {
		t.Errorf("challenge from a spoofed Origin: %d %v", status, body)
	}
	if status, body := r.post("/api/challenge", origin, chromeUA, "text/plain", `{"site":"pk_nope","url":"https://acme.example/"}`); status != 404 {
		t.Errorf("challenge for an unknown key: %d %v", status, body)
	}
	r.finish()

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{r.cfg.Addr}, Auth: clickhouse.Auth{Database: r.cfg.Database}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT type, name, hostname, pathname, title, source, channel, utm_source, utm_medium,
		browser, device, language, engagement_ms, scroll_depth, value, prop_keys, prop_values, verdict, seq
		FROM events WHERE site_id = ? ORDER BY type, name`, r.siteA.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var typ, name, host, path, title, source, channel, utmS, utmM, browser, device, lang, verdict string
		var eng uint32
		var scroll uint8
		var value float64
		var keys, vals []string
		var seq uint32
		if err := rows.Scan(&typ, &name, &host, &path, &title, &source, &channel, &utmS, &utmM, &browser, &device, &lang, &eng, &scroll, &value, &keys, &vals, &verdict, &seq); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s|%s|%s%s|%s|%s/%s|%s/%s|%s/%s/%s|%d/%d|%g|%v=%v|%s|%d",
			typ, name, host, path, title, source, channel, utmS, utmM, browser, device, lang, eng, scroll, value, keys, vals, verdict, seq))
	}
	// UTM beats the referrer for source and channel; the DOM check became
	// "checked" plus one row per problem; custom properties are sorted.
	want := []string{
		"custom|signup|www.acme.example/pricing||/|/|Chrome/desktop/|0/0|0|[b plan]=[x pro]|ok|1",
		"dom_check|checked|www.acme.example/pricing||/|/|Chrome/desktop/|0/0|1|[]=[]|ok|1",
		"dom_check|h1_count|www.acme.example/pricing||/|/|Chrome/desktop/|0/0|2|[]=[]|ok|1",
		"dom_check|img_no_alt|www.acme.example/pricing||/|/|Chrome/desktop/|0/0|3|[]=[]|ok|1",
		"dom_check|missing_description|www.acme.example/pricing||/|/|Chrome/desktop/|0/0|1|[]=[]|ok|1",
		"engagement||www.acme.example/pricing||/|/|Chrome/desktop/|5400/80|0|[]=[]|ok|2",
		"outbound||www.acme.example/pricing||/|/|Chrome/desktop/|0/0|0|[url]=[https://partner.example/x]|ok|1",
		"pageview||www.acme.example/pricing|Pricing|newsletter/email|newsletter/email|Chrome/desktop/de-DE|0/0|0|[]=[]|ok|1",
		"vital|TTFB|www.acme.example/pricing||/|/|Chrome/desktop/|0/0|87|[]=[]|ok|1",
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stored rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Rejections are counted per site and reason, never stored as events.
	rrows, err := conn.Query(ctx, "SELECT site_id = ?, reason, sum(count) FROM rejections GROUP BY site_id, reason ORDER BY reason", r.siteA.ID)
	if err != nil {
		t.Fatal(err)
	}
	var rej []string
	for rrows.Next() {
		var isA uint8
		var reason string
		var count uint64
		if err := rrows.Scan(&isA, &reason, &count); err != nil {
			t.Fatal(err)
		}
		rej = append(rej, fmt.Sprintf("%d:%s=%d", isA, reason, count))
	}
	// 1: site A; 0: unknown site (uuid.Nil) or site B, whose token was
	// replayed from A's Origin.
	wantRej := "0:malformed=4 0:origin_not_allowed=1 0:unknown_site=1 1:origin_not_allowed=2 1:pow_invalid=1 1:replay=1 1:token_bad_mac=1 1:token_ua_mismatch=1"
	sort.Strings(rej)
	if strings.Join(rej, " ") != wantRej {
		t.Fatalf("rejections %v, want %s", rej, wantRej)
	}
}

func TestServerToServerEvents(t *testing.T) {
	r := newRig(t)
	secret := r.keys.SiteSecret(r.siteA.ID, r.siteA.SecretVersion)
	body := `{"events":[{"name":"purchase","url":"https://acme.example/checkout","value":49.9,"props":{"order":"A-17"}}]}`
	ts := fmt.Sprint(time.Now().Unix())
	send := func(ts, nonce, sig, body string) (int, string) {
		req := httptest.NewRequest("POST", "/api/v1/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Verity-Site", r.siteA.ID.String())
		req.Header.Set("X-Verity-Timestamp", ts)
		req.Header.Set("X-Verity-Nonce", nonce)
		req.Header.Set("X-Verity-Signature", sig)
		resp, err := r.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	nonce := "n-0123456789abcdef"
	sig := collector.S2SSignature(secret, "POST", "/api/v1/events", ts, nonce, []byte(body))
	if status, b := send(ts, nonce, sig, body); status != 202 || b != `{"accepted":1}` {
		t.Fatalf("signed request: %d %s", status, b)
	}
	old := fmt.Sprint(time.Now().Add(-10 * time.Minute).Unix())
	cases := []struct {
		name, ts, nonce, sig, body string
		status                     int
		code                       string
	}{
		{"replayed nonce", ts, nonce, sig, body, 409, "replay"},
		{"body changed", ts, "n-1111111111111111", collector.S2SSignature(secret, "POST", "/api/v1/events", ts, "n-1111111111111111", []byte(body)), strings.Replace(body, "49.9", "4990", 1), 401, "signature_invalid"},
		{"old timestamp", old, "n-2222222222222222", collector.S2SSignature(secret, "POST", "/api/v1/events", old, "n-2222222222222222", []byte(body)), body, 401, "signature_expired"},
		{"signed with another key", ts, "n-3333333333333333", collector.S2SSignature("sk_wrong", "POST", "/api/v1/events", ts, "n-3333333333333333", []byte(body)), body, 401, "signature_invalid"},
		{"no signature", ts, "n-4444444444444444", "", body, 401, "signature_missing"},
	}
	for _, c := range cases {
		status, b := send(c.ts, c.nonce, c.sig, c.body)
		if status != c.status || !strings.Contains(b, `"code":"`+c.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, b, c.status, c.code)
		}
	}
	r.finish()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{r.cfg.Addr}, Auth: clickhouse.Auth{Database: r.cfg.Database}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var name, ingest string
	var verified uint8
	var value float64
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT any(name), any(ingest), any(verified), any(value), count() FROM events WHERE site_id = ?", r.siteA.ID).Scan(&name, &ingest, &verified, &value, &n); err != nil {
		t.Fatal(err)
	}
	if n != 1 || name != "purchase" || ingest != "server" || verified != 1 || value != 49.9 {
		t.Fatalf("stored %d rows: %s %s verified=%d value=%g; want one verified purchase of 49.9", n, name, ingest, verified, value)
	}
}

// A crawler that says so gets a trivial puzzle (n = 0), and its events are
// stored as general invalid traffic, never counted as people.
func TestDeclaredBotIsClassifiedNotBlocked(t *testing.T) {
	r := newRig(t)
	const googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	origin := "https://acme.example"
	status, body := r.post("/api/challenge", origin, googlebot, "text/plain", `{"site":"`+r.siteA.PublicKey+`","url":"https://acme.example/"}`)
	if status != 200 {
		t.Fatalf("challenge: %d %v", status, body)
	}
	pow := body["pow"].(map[string]any)
	plid, _ := hex.DecodeString(pow["plid"].(string))
	target, _ := hex.DecodeString(pow["target"].(string))
	if pow["max"].(float64) != 0 || !abuse.CheckPoW([16]byte(plid), 0, [16]byte(target), 0) {
		t.Fatalf("declared bot's puzzle %v: want max 0 solved by n = 0", pow)
	}
	status, body = r.post("/api/event", origin, googlebot, "text/plain", eventBody(body["token"].(string), 0, 1, `{"type":"pageview","url":"https://acme.example/","referrer":"","title":"Home","screen_w":0,"lang":"en","tz":"UTC"}`))
	if status != 202 {
		t.Fatalf("event: %d %v", status, body)
	}
	r.finish()
	got, err := r.st.TrafficQuality(context.Background(), r.siteA.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Events["invalid"] != 1 || got.Events["ok"] != 0 || len(got.Reasons) == 0 || got.Reasons[0].Class != abuse.ClassDeclaredCrawler || got.Reasons[0].Reason != "declared_bot" {
		t.Fatalf("traffic quality %+v: want one invalid declared-crawler pageview", got)
	}
}

// TestSignalsReachTheScore sends a page load that trips the request and
// snippet signals and finds every one of their reason codes on the stored
// rows, carried from the first batch to the second.
func TestSignalsReachTheScore(t *testing.T) {
	r := newRig(t)
	origin := "https://www.acme.example"
	token, n := r.pageLoad(r.siteA, origin)
	odd := map[string]string{"Accept-Language": "", "Sec-Fetch-Mode": "", "Sec-CH-UA-Platform": `"Windows"`}
	first := fmt.Sprintf(`{"token":%q,"n":%d,"solve_ms":12,"seq":1,"events":[%s],"signals":{"webdriver":false,"globals":[],"langs":0,"sw_gl":true,"win":[800,600,0,0],"perm":"promptdenied"}}`,
		token, n, `{"type":"pageview","url":"https://www.acme.example/","referrer":"https://semalt.com/","title":"Home","screen_w":800,"lang":"en","tz":"UTC"}`)
	if status, body := r.postWith("/api/event", origin, chromeUA, "text/plain", first, odd); status != 202 {
		t.Fatalf("first batch: %d %v", status, body)
	}
	if status, body := r.postWith("/api/event", origin, chromeUA, "text/plain", eventBody(token, n, 2, secondBatch), odd); status != 202 {
		t.Fatalf("second batch: %d %v", status, body)
	}
	r.finish()
	got, err := r.st.TrafficQuality(context.Background(), r.siteA.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Events["invalid"] != 2 {
		t.Fatalf("events by verdict %v, want both invalid", got.Events)
	}
	counts := map[string]uint64{}
	for _, c := range got.Reasons {
		counts[c.Reason] = c.Count
		if c.Class != abuse.ClassActivityList {
			t.Errorf("reason %s has class %s, want the referrer spam's %s", c.Reason, c.Class, abuse.ClassActivityList)
		}
	}
	for _, reason := range []string{"referrer_spam", "software_webgl", "impossible_window", "no_languages", "permission_mismatch",
		"ua_platform_mismatch", "missing_fetch_metadata", "missing_accept_language"} {
		if counts[reason] != 2 {
			t.Errorf("reason %s on %d rows, want both: %v", reason, counts[reason], counts)
		}
	}
}

// TestAdaptiveProofOfWork: a network that asks for many page loads gets
// more work, and its events carry issuance_velocity; the first 30 a minute
// get the normal puzzle.
func TestAdaptiveProofOfWork(t *testing.T) {
	r := newRig(t)
	origin := "https://www.acme.example"
	challenge := func() map[string]any {
		status, body := r.post("/api/challenge", origin, chromeUA, "text/plain", fmt.Sprintf(`{"site":%q,"url":"https://www.acme.example/"}`, r.siteA.PublicKey))
		if status != 200 {
			t.Fatalf("challenge: %d %v", status, body)
		}
		return body
	}
	for i := range 30 {
		if max := challenge()["pow"].(map[string]any)["max"]; max != float64(2000) {
			t.Fatalf("challenge %d: pow max %v, want 2000", i+1, max)
		}
	}
	body := challenge()
	pow := body["pow"].(map[string]any)
	if pow["max"] != float64(20000) {
		t.Fatalf("31st challenge in a minute: pow max %v, want 20000 (elevated)", pow["max"])
	}
	plid, _ := hex.DecodeString(pow["plid"].(string))
	target, _ := hex.DecodeString(pow["target"].(string))
	n := uint32(0)
	for !abuse.CheckPoW([16]byte(plid), n, [16]byte(target), 20000) {
		n++
	}
	// As a browser would: the work takes its time (≈ 100 hashes a
	// millisecond), and is reported so; faster is flagged (pow_too_fast,
	// events_too_soon).
	solveMS := int(n)/100 + 1
	time.Sleep(time.Duration(solveMS) * time.Millisecond)
	batch := fmt.Sprintf(`{"token":%q,"n":%d,"solve_ms":%d,"seq":1,"events":[%s]}`, body["token"], n, solveMS,
		`{"type":"pageview","url":"https://www.acme.example/","referrer":"","title":"x","screen_w":1,"lang":"en","tz":"UTC"}`)
	if status, resp := r.post("/api/event", origin, chromeUA, "text/plain", batch); status != 202 {
		t.Fatalf("event: %d %v", status, resp)
	}
	// A native solver answers at once and says so. Puzzles under 10,000
	// hashes are not judged (a coarse browser clock could not tell), so
	// take one that needs more.
	var issued time.Time
	for n = 0; n < 10000; {
		body = challenge()
		issued = time.Now()
		pow = body["pow"].(map[string]any)
		plid, _ = hex.DecodeString(pow["plid"].(string))
		target, _ = hex.DecodeString(pow["target"].(string))
		for n = 0; !abuse.CheckPoW([16]byte(plid), n, [16]byte(target), 20000); n++ {
		}
	}
	batch = fmt.Sprintf(`{"token":%q,"n":%d,"solve_ms":0,"seq":1,"events":[%s]}`, body["token"], n,
		`{"type":"pageview","url":"https://www.acme.example/bot","referrer":"","title":"x","screen_w":1,"lang":"en","tz":"UTC"}`)
	// Sooner than a browser's fastest hashing (1M/s) could have found n —
	// unless this machine (the race detector, a loaded CI) made the test
	// itself that slow.
	// The collector's clock started a little before ours and stops a
	// little after, so only a clear margin decides.
	elapsed, work := time.Since(issued), time.Duration(n)*time.Microsecond
	tooSoon, clear := elapsed+2*time.Millisecond < work, elapsed+2*time.Millisecond < work || elapsed > work
	if status, resp := r.post("/api/event", origin, chromeUA, "text/plain", batch); status != 202 {
		t.Fatalf("event: %d %v", status, resp)
	}
	r.finish()
	// 30 points alone: counted (ok), so the reason shows on the row only.
	if reasons := r.column(t, "arrayStringConcat(reasons, ',')", "pathname = '/'"); reasons != "issuance_velocity" {
		t.Fatalf("browser-like page load: reasons %q, want issuance_velocity", reasons)
	}
	reasons := r.column(t, "arrayStringConcat(reasons, ',')", "pathname = '/bot'")
	if !strings.Contains(reasons, "pow_too_fast") || clear && strings.Contains(reasons, "events_too_soon") != tooSoon {
		t.Fatalf("native solver with n = %d (too soon: %v): reasons %q, want pow_too_fast and events_too_soon exactly when too soon", n, tooSoon, reasons)
	}
	if !tooSoon {
		t.Logf("the test took longer than the work; events_too_soon checked absent")
	}
}

// column reads one value of site A's one event row that matches cond, as
// text.
func (r *rig) column(t *testing.T, expr, cond string) string {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{r.cfg.Addr}, Auth: clickhouse.Auth{Database: r.cfg.Database}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v string
	if err := conn.QueryRow(context.Background(), "SELECT toString("+expr+") FROM events WHERE site_id = ? AND "+cond, r.siteA.ID).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEventCapPerPageLoad: a page load may send at most 200 events; the
// batch that goes over is refused and counted.
func TestEventCapPerPageLoad(t *testing.T) {
	r := newRig(t)
	origin := "https://www.acme.example"
	token, n := r.pageLoad(r.siteA, origin)
	vital := `{"type":"vital","url":"https://www.acme.example/","name":"TTFB","value":1}`
	batch := strings.TrimSuffix(strings.Repeat(vital+",", 50), ",")
	for seq := 1; seq <= 4; seq++ {
		if status, body := r.post("/api/event", origin, chromeUA, "text/plain", eventBody(token, n, seq, batch)); status != 202 {
			t.Fatalf("batch %d: %d %v", seq, status, body)
		}
	}
	status, body := r.post("/api/event", origin, chromeUA, "text/plain", eventBody(token, n, 5, vital))
	if status != 429 || body["error"].(map[string]any)["code"] != "event_limit" {
		t.Fatalf("event 201: %d %v, want 429 event_limit", status, body)
	}
	r.finish()
	got, err := r.st.TrafficQuality(context.Background(), r.siteA.ID, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if got.Events["ok"] != 200 || len(got.Rejected) != 1 || got.Rejected[0].Reason != "event_limit" || got.Rejected[0].Count != 1 {
		t.Fatalf("quality %+v, want 200 events stored and one event_limit rejection", got)
	}
}

// TestSiteRulesOverrideTheScore: a site's deny rule makes its matching
// events invalid (givt_activity_list, rule_deny) and leaves the others; an
// allow rule counts what the signals flagged, keeping their reasons. Site
// B's rules never touch site A.
func TestSiteRulesOverrideTheScore(t *testing.T) {
	r := newRigSetup(t, nil, func(st *storage.Store, a, b storage.Site) {
		for _, rule := range []storage.SiteRule{
			{SiteID: a.ID, Action: abuse.RuleDeny, Kind: abuse.RulePath, Value: "/private*"},
			{SiteID: a.ID, Action: abuse.RuleAllow, Kind: abuse.RuleUA, Value: "X11; Linux"},
			{SiteID: b.ID, Action: abuse.RuleDeny, Kind: abuse.RulePath, Value: "/*"},
		} {
			if _, err := st.PutRule(context.Background(), rule); err != nil {
				t.Fatal(err)
			}
		}
	})
	origin := "https://www.acme.example"
	token, n := r.pageLoad(r.siteA, origin)
	// No Accept-Language and no fetch metadata: flagged (60) without the allow rule.
	odd := map[string]string{"Accept-Language": "", "Sec-Fetch-Mode": ""}
	events := `{"type":"pageview","url":"https://www.acme.example/","referrer":"","title":"x","screen_w":1,"lang":"en","tz":"UTC"},` +
		`{"type":"pageview","url":"https://www.acme.example/private/report","referrer":"","title":"x","screen_w":1,"lang":"en","tz":"UTC"}`
	if status, body := r.postWith("/api/event", origin, chromeUA, "text/plain", eventBody(token, n, 1, events), odd); status != 202 {
		t.Fatalf("event: %d %v", status, body)
	}
	r.finish()
	if got := r.column(t, "(verdict, class, reasons)", "pathname = '/'"); got != "('ok','',['missing_fetch_metadata','missing_accept_language','rule_allow'])" {
		t.Errorf("allowed page: %s", got)
	}
	if got := r.column(t, "(verdict, class, reasons)", "pathname = '/private/report'"); got != "('invalid','givt_activity_list',['missing_fetch_metadata','missing_accept_language','rule_deny'])" {
		t.Errorf("denied page: %s", got)
	}
}
