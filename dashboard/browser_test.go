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
// Chromium, opens a site's overview, toggles the traffic view and changes
// the period (htmx swaps the pages in, under the CSP with its nonce), and
// signs out.
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := f.h.App()
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	base := "http://" + ln.Addr().String()

	ctx, cancel := context.WithTimeout(newBrowser(t), 90*time.Second)
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
	human, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="totals"] .stat:nth-child(3) dd').textContent`))
	if err != nil {
		t.Fatal(err)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="view-All"]`),
		chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="overview"]').dataset.view === "all"`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("toggle view: %v", err)
	}
	screenshot(t, ctx, "dashboard-overview-all")
	all, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="totals"] .stat:nth-child(3) dd').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
	if err != nil || loc != "?view=all" {
		t.Errorf("URL after the toggle = %q (%v), want ?view=all (the URL carries the state)", loc, err)
	}
	if human == all || human == "" {
		t.Errorf("pageviews human %q, all %q: want different numbers", human, all)
	}

	err = chromedp.Do(ctx,
		chromedp.Click(`[data-testid="periods"] a:nth-child(3)`), // Last 7 days
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('[data-testid="chart-point"]').length === 7`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("change period: %v", err)
	}
	screenshot(t, ctx, "dashboard-overview-7d")
	if loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`)); loc != "?period=7d&view=all" {
		t.Errorf("URL after the period change = %q, want ?period=7d&view=all", loc)
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
