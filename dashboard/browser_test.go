package dashboard

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's headless browser; `make test` installs it. The
// browser test fails, never skips, when it is missing. (The collector's
// browser test has the same launcher; test helpers cannot be shared
// between packages' _test files without a new package.)
func chromium(t testing.TB) string {
	for _, p := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("no chromium: install Debian's chromium package (make test does)")
	return ""
}

func newBrowser(t testing.TB) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 1000), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	return bctx
}

// screenshot saves the whole page as $VERITY_TEST_ARTIFACTS/name.png, if set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("VERITY_TEST_ARTIFACTS")
	if dir == "" {
		return
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// TestBrowserSignInAndOverview signs in through the form in headless
// Chromium, opens a site's overview, clicks a row to filter by it, changes
// the period, toggles the traffic view, clears the filter, exports a panel
// as CSV, opens the realtime page (htmx swaps the pages in, under the CSP
// with its nonce), and signs out.
func TestBrowserSignInAndOverview(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	now := time.Now().UTC()
	for d := range 30 {
		verdicts := []string{"ok", "ok", "ok"}
		for range d % 5 {
			verdicts = append(verdicts, "ok")
		}
		if d%4 == 0 {
			verdicts = append(verdicts, "suspect", "invalid")
		}
		f.events(f.siteA, now.AddDate(0, 0, -d), verdicts...)
	}
	f.visits(f.siteA, now,
		visit{ago: 10 * time.Minute, pages: []string{"/", "/pricing"}, source: "Google", country: "DE"},
		visit{ago: 50 * time.Hour, pages: []string{"/"}, source: "Google", country: "FR"},
		visit{ago: 20 * 24 * time.Hour, pages: []string{"/"}, source: "Google", country: "FR"},
	)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := f.h.App()
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	base := "http://" + ln.Addr().String()

	ctx, cancel := context.WithTimeout(newBrowser(t), 120*time.Second)
	defer cancel()
	// Every script error and every browser complaint (a CSP violation
	// among them) fails the test: the page must work within its policy.
	var mu sync.Mutex
	var complaints []string
	complain := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		complaints = append(complaints, s)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				complain("console error")
			}
		case *runtime.EventExceptionThrown:
			complain("exception: " + e.ExceptionDetails.Text)
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
				complain("browser log: " + e.Entry.Text)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range complaints {
			t.Errorf("browser: %s", c)
		}
	}()
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`[data-testid="login"]`),
		chromedp.Poll[chromedp.Void](`typeof window.htmx === "object"`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("login page (htmx must load under the CSP): %v", err)
	}
	screenshot(t, ctx, "dashboard-login")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`[data-testid="login-email"]`, f.ownerA.Email),
		chromedp.SendKeys(`[data-testid="login-password"]`, testPassword),
		chromedp.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="site-link"]`),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	screenshot(t, ctx, "dashboard-sites")
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="site-link"]`),
		chromedp.WaitVisible(`[data-testid="chart"] svg`),
	)
	if err != nil {
		t.Fatalf("open overview: %v", err)
	}
	screenshot(t, ctx, "dashboard-overview-human")
	points, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="chart-point"]').length`))
	if err != nil || points != 30 {
		t.Errorf("chart points = %d (%v), want 30", points, err)
	}
	tip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="chart-point"] title').textContent`))
	if err != nil || !strings.Contains(tip, "visitors") {
		t.Errorf("first tooltip = %q (%v)", tip, err)
	}
	pageviews := func() string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="stat-Pageviews"] dd').textContent`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	search := func() string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	all30 := pageviews()

	// Click the "Google" row of the sources panel: a chip, fewer pageviews.
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="panel-sources"] a[title="Show only Google"]`),
		chromedp.WaitVisible(`[data-testid="chip"]`),
	)
	if err != nil {
		t.Fatalf("click a row: %v", err)
	}
	screenshot(t, ctx, "dashboard-overview-filtered")
	chip, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="chip"]').textContent`))
	if err != nil || !strings.Contains(chip, "Source: Google") {
		t.Errorf("chip = %q (%v), want Source: Google", chip, err)
	}
	if got := pageviews(); got != "4" || got == all30 {
		t.Errorf("pageviews after the filter = %q (before %q), want 4", got, all30)
	}
	if got := search(); got != "?f=source%3AGoogle" {
		t.Errorf("URL after the filter = %q (the URL carries the state)", got)
	}

	// Change the period: the filter stays.
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="periods"] a:nth-child(3)`), // Last 7 days
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="chart-point"]').length === 7`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("change period: %v", err)
	}
	screenshot(t, ctx, "dashboard-overview-7d")
	if got := search(); got != "?f=source%3AGoogle&period=7d" {
		t.Errorf("URL after the period change = %q", got)
	}
	if got := pageviews(); got != "3" {
		t.Errorf("pageviews from Google in 7 days = %q, want 3", got)
	}

	// Toggle the view, then drop the filter: all traffic has more.
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="view-All"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="overview"]').dataset.view === "all"`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("toggle view: %v", err)
	}
	if got := search(); got != "?f=source%3AGoogle&period=7d&view=all" {
		t.Errorf("URL after the toggle = %q", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="clear-filters"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="chips"]') === null`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("clear filters: %v", err)
	}
	screenshot(t, ctx, "dashboard-overview-all")
	if got := pageviews(); got == "3" || got == all30 {
		t.Errorf("pageviews of all traffic in 7 days = %q: want neither the filtered 3 nor the human 30 days' %q", got, all30)
	}

	// Export the sources panel as CSV: what the link downloads.
	csv, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.querySelector('[data-testid="export-sources"]').href)
		.then(r => Promise.all([r.headers.get("content-disposition"), r.headers.get("content-type"), r.text()]))
		.then(a => a.join("\n"))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	if !strings.HasPrefix(csv, `attachment; filename="acme.example-source-`) || !strings.Contains(csv, "\ntext/csv; charset=utf-8\nsource,visitors,visits,pageviews,share\n") ||
		!strings.Contains(csv, "\nGoogle,2,2,3,") {
		t.Errorf("exported CSV:\n%s", csv)
	}
	if dir := os.Getenv("VERITY_TEST_ARTIFACTS"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, "dashboard-export-source.csv"), []byte(csv), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Realtime: the last half hour, refreshing itself.
	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="nav-realtime"]`),
		chromedp.WaitVisible(`[data-testid="realtime"]`),
	)
	if err != nil {
		t.Fatalf("realtime: %v", err)
	}
	screenshot(t, ctx, "dashboard-realtime")
	live, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="visitors-30m"] dd').textContent`))
	if err != nil || live != "4" {
		t.Errorf("realtime visitors in 30 minutes = %q (%v), want 4 (3 visitors now, 1 from Google 10 minutes ago)", live, err)
	}
	// It refreshes itself: htmx polls every 10 seconds and swaps the live
	// section, whose time changes.
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`window.firstUpdate = document.querySelector('[data-testid="updated"]').textContent`),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="updated"]').textContent !== window.firstUpdate`, chromedp.WithPollingTimeout(25*time.Second)),
	)
	if err != nil {
		t.Errorf("the realtime page did not refresh itself: %v", err)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/sites/"+f.siteA.ID.String()+"/settings"),
		chromedp.WaitVisible(`[data-testid="snippet"]`),
	)
	if err != nil {
		t.Fatalf("settings: %v", err)
	}
	screenshot(t, ctx, "dashboard-settings")

	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="logout"]`),
		chromedp.WaitVisible(`[data-testid="login"]`),
		chromedp.Navigate(base+"/sites/"+f.siteA.ID.String()),
		chromedp.WaitVisible(`[data-testid="login"]`),
	)
	if err != nil {
		t.Fatalf("sign out: %v", err)
	}
}
