package dashboard

import (
	"context"
	"encoding/csv"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserRulesAndExport signs in in headless Chromium, adds a rule
// through the Rules page (a mistake first: htmx swaps the 422 page in with
// its message), and downloads the raw events as CSV from the Export page
// (the form is not boosted, so the browser saves the file).
func TestBrowserRulesAndExport(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	f.statsTraffic()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	app := f.h.App()
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	base := "http://" + ln.Addr().String()
	site := base + "/sites/" + f.siteA.ID.String()

	bctx := newBrowser(t)
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`[data-testid="login"]`),
		chromedp.SendKeys(`[data-testid="login-email"]`, f.adminA.Email),
		chromedp.SendKeys(`[data-testid="login-password"]`, testPassword),
		chromedp.Click(`[data-testid="login-submit"]`),
		chromedp.WaitVisible(`[data-testid="site-link"]`),
		chromedp.Navigate(site+"/rules"),
		chromedp.WaitVisible(`[data-testid="no-rules"]`),
		chromedp.Poll[chromedp.Void](`typeof window.htmx === "object"`, chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("sign in and open the rules page: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(`[data-testid="rule-form"] select[name="kind"]`, "asn"),
		chromedp.SendKeys(`[data-testid="rule-form"] input[name="value"]`, "amazon"),
		chromedp.Click(`[data-testid="rule-form"] button`),
		chromedp.WaitVisible(`[data-testid="form-error"]`),
	)
	if err != nil {
		t.Fatalf("a bad rule: %v", err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="form-error"]').textContent`))
	if err != nil || !strings.Contains(msg, "The rule was not added") {
		t.Errorf("error message = %q (%v)", msg, err)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(`[data-testid="rule-form"] input[name="value"]`, "AS16509"),
		chromedp.SendKeys(`[data-testid="rule-form"] input[name="note"]`, "scrapers"),
		chromedp.Click(`[data-testid="rule-form"] button`),
		chromedp.WaitVisible(`[data-testid="rule-row"]`),
	)
	if err != nil {
		t.Fatalf("add a rule: %v", err)
	}
	screenshot(t, ctx, "dashboard-rules")
	if row, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="rule-row"]').textContent`)); !strings.Contains(row, "16509") || !strings.Contains(row, "scrapers") {
		t.Errorf("rule row = %q", row)
	}

	dir := t.TempDir()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	allow := true
	err = chromedp.Do(ctx,
		chromedp.Navigate(site+"/export?period=custom&from=2026-03-10&to=2026-03-11&view=all"),
		chromedp.WaitVisible(`[data-testid="export-form"]`),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &allow})
			return err
		}),
	)
	if err != nil {
		t.Fatalf("export page: %v", err)
	}
	screenshot(t, ctx, "dashboard-export")
	if err := chromedp.Do(ctx, chromedp.Click(`[data-testid="export-submit"]`)); err != nil {
		t.Fatalf("download: %v", err)
	}
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("waiting for the download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatalf("downloaded file is not CSV: %v", err)
	}
	// The header and A's six events of the two days, in the all view.
	if len(records) != 7 || records[0][0] != "time" || records[1][0] != "2026-03-10T10:00:00Z" {
		t.Errorf("downloaded %d records, first %q", len(records), records[:min(2, len(records))])
	}
}
