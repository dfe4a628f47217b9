package collector_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/chromedp/chromedp"

	"github.com/verityhq/verity/storage"
)

// chromium finds Debian's headless browser; `make test` installs it. The
// browser test fails, never skips, when it is missing.
func chromium(t testing.TB) string {
	for _, p := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("no chromium: install Debian's chromium package (make test does)")
	return ""
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

const testPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Browser test page</title>
<script defer src="%s/s/v1.js" data-site="%s" data-localhost="true"></script>
</head><body>
<h1>Hello</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<a id="out" href="https://partner.example/offer">partner</a>
<button id="signup" data-verity-event="signup" data-verity-prop-plan="pro">Sign up</button>
<script>document.getElementById('out').addEventListener('click', function (e) { e.preventDefault(); });</script>
</body></html>`

// TestBrowserEndToEnd loads a page from another origin that embeds the
// snippet into Debian's headless Chromium, navigates (an SPA route change),
// fires custom events, clicks an outbound link, leaves the page, and then
// finds exactly the expected rows in ClickHouse.
func TestBrowserEndToEnd(t *testing.T) {
	collectorLn, pageLn := listen(t), listen(t)
	collectorURL := "http://127.0.0.1:" + fmt.Sprint(collectorLn.Addr().(*net.TCPAddr).Port)
	pageOrigin := "http://localhost:" + fmt.Sprint(pageLn.Addr().(*net.TCPAddr).Port)
	// The page's origin is localhost, the collector's 127.0.0.1: cross-origin,
	// as on a client's site.
	r := newRigWith(t, func(a, _ *storage.Site) { a.AllowedOrigins = []string{pageOrigin} })
	go func() { _ = r.h.App().Listener(collectorLn) }()
	servePage(t, pageLn, fmt.Sprintf(testPage, collectorURL, r.siteA.PublicKey))
	bctx := newBrowser(t)
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()

	err := chromedp.Do(ctx,
		chromedp.Navigate(pageOrigin+"/"),
		chromedp.WaitVisible("#signup"),
		chromedp.Poll[chromedp.Void](`typeof window.verity === "function"`, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Evaluate[chromedp.Void](`history.pushState({}, "", "/pricing?utm_source=newsletter&utm_medium=email")`),
		chromedp.Evaluate[chromedp.Void](`verity("trial", {plan: "team", seats: 5})`),
		chromedp.Click("#signup"),
		chromedp.Click("#out"),
		chromedp.Sleep(1500*time.Millisecond), // the snippet batches for 1 s
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		if dir := os.Getenv("VERITY_TEST_ARTIFACTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "browser-test-page.png"), shot, 0o644)
		}
	}
	// Leaving the page fires pagehide: engagement and vitals go by sendBeacon.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browser: %v", err)
	}

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{r.cfg.Addr}, Auth: clickhouse.Auth{Database: r.cfg.Database}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rows []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows = browserRows(t, conn, r)
		if strings.Contains(strings.Join(rows, "\n"), "engagement") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.finish()
	rows = browserRows(t, conn, r)
	joined := strings.Join(rows, "\n")
	t.Logf("rows stored from the browser:\n%s", joined)
	if dir := os.Getenv("VERITY_TEST_ARTIFACTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "browser-rows.txt"), []byte(joined), 0o644)
	}
	// Exactly these rows, each once. INP exists only when an interaction
	// took 16 ms or more, which depends on the machine's load.
	want := []string{
		"custom signup [plan]=[pro]",
		"custom trial [plan seats]=[team 5]",
		"dom_check checked /pricing",
		"dom_check img_no_alt /pricing",
		"dom_check missing_canonical /pricing",
		"dom_check missing_description /pricing",
		"engagement  /",
		"engagement  /pricing",
		"outbound  [url]=[https://partner.example/offer]",
		"pageview / Direct / None/direct",
		"pageview /pricing newsletter/email",
		"vital CLS /",
		"vital FCP /",
		"vital LCP /",
		"vital TTFB /",
	}
	var got []string
	for _, row := range rows {
		what, scoring, _ := strings.Cut(row, " | ")
		// Chromium driven by automation (navigator.webdriver, HeadlessChrome)
		// is stored, but as invalid traffic.
		// The page reported navigator.webdriver once, with its first batch;
		// every row of the page load carries it.
		if !strings.HasPrefix(scoring, "HeadlessChrome invalid ") || !strings.Contains(scoring, "headless_ua") || !strings.Contains(scoring, "webdriver") {
			t.Errorf("row %q scored %q, want HeadlessChrome, invalid, headless_ua and webdriver", what, scoring)
		}
		if what != "vital INP /" {
			got = append(got, what)
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var total, distinct uint64
	if err := conn.QueryRow(context.Background(), "SELECT count(), uniqExact(event_id) FROM events WHERE site_id = ?", r.siteA.ID).Scan(&total, &distinct); err != nil {
		t.Fatal(err)
	}
	if total != distinct || total == 0 {
		t.Fatalf("%d rows, %d distinct event ids: want no duplicates", total, distinct)
	}
}

// servePage serves html at every path of ln until the test ends.
func servePage(t testing.TB, ln net.Listener, html string) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
}

// newBrowser starts Debian's headless Chromium with the flags this closed
// network needs (no background networking, updates or sync) and returns
// its chromedp context; it is stopped when the test ends. extra adds
// options (a User-Agent, say).
func newBrowser(t testing.TB, extra ...chromedp.ExecAllocatorOption) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()))
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return bctx
}

// browserRows lists the stored rows of site A as "type name path source/channel props".
func browserRows(t *testing.T, conn clickhouse.Conn, r *rig) []string {
	rows, err := conn.Query(context.Background(), `SELECT type, name, pathname, source, channel, prop_keys, prop_values, browser, verdict, arrayStringConcat(reasons, ',')
		FROM events WHERE site_id = ?`, r.siteA.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var typ, name, path, source, channel, browser, verdict, reasons string
		var keys, vals []string
		if err := rows.Scan(&typ, &name, &path, &source, &channel, &keys, &vals, &browser, &verdict, &reasons); err != nil {
			t.Fatal(err)
		}
		line := fmt.Sprintf("%s %s %s", typ, name, path)
		switch typ {
		case "pageview":
			line = fmt.Sprintf("%s %s %s/%s", typ, path, source, channel)
		case "custom", "outbound", "download":
			line = fmt.Sprintf("%s %s %v=%v", typ, name, keys, vals)
		}
		out = append(out, line+" | "+browser+" "+verdict+" "+reasons)
	}
	sort.Strings(out)
	return out
}
