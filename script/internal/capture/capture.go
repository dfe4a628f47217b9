package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"

	"github.com/chromedp/chromedp"
)

// findChromium returns the path of Debian's chromium (`make test`
// installs it).
func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", errors.New("no chromium on PATH: install Debian's chromium package (make test does)")
}

// newBrowser starts headless Chromium with the flags this closed network
// needs (no background networking, updates or sync: the same as
// collector/browser_test.go), a fixed window, language and time zone so
// the pageview and signals come out the same on every machine, and every
// test host resolved to the stub at port. stop ends the browser.
func newBrowser(chromium string, port int) (ctx context.Context, stop func()) {
	rules := ""
	for _, host := range []string{siteHost, referrerHost, collectorHost} {
		rules += fmt.Sprintf("MAP %s 127.0.0.1:%d, ", host, port)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-quic", true),
		// The defaults' list, and no https attempt before each http page.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,HttpsUpgrades"),
		// Everything else fails to resolve rather than reaching the network.
		chromedp.Flag("host-resolver-rules", rules+"MAP * ~NOTFOUND"),
		chromedp.WindowSize(800, 600), chromedp.Flag("lang", "en-US"), chromedp.Env("TZ=UTC", "LANGUAGE=en_US"),
		// The site is a secure context, as an https site is (this stub has
		// no certificate): over plain http, Chromium denies notifications
		// and the perm signal would read "denieddenied".
		chromedp.Flag("unsafely-treat-insecure-origin-as-secure", "http://"+siteHost))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	return bctx, func() {
		cancelBrowser()
		cancelAlloc()
	}
}

// goldenFile is one golden file: its name and the request body it holds.
type goldenFile struct {
	name   string
	body   []byte
	beacon bool // sent by sendBeacon
}

// capture loads the test pages in Chromium, performs the actions of
// testdata/golden/README.md's table one at a time (each waits until the
// stub has the batch it causes, so every batch holds what the table says)
// and returns the golden files. The stub answers on 127.0.0.1 only.
func capture(ctx context.Context, chromium string) ([]goldenFile, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sctx, stopStub := context.WithCancel(ctx)
	defer stopStub()
	st := newStub(pages)
	st.serve(sctx, ln)

	bctx, stopBrowser := newBrowser(chromium, ln.Addr().(*net.TCPAddr).Port)
	defer stopBrowser()
	// The browser lives as long as the context of its first action, which
	// therefore has no deadline: ctx's ends it from outside.
	defer context.AfterFunc(ctx, stopBrowser)()

	// Following the blog's link gives the first pageview a referrer.
	if err := chromedp.Do(bctx, chromedp.Navigate(referrerURL)); err != nil {
		return nil, fmt.Errorf("open %s: %w", referrerURL, err)
	}
	if _, err := chromedp.RunResponse(bctx, chromedp.Click("#pricing")); err != nil {
		return nil, fmt.Errorf("open %s: %w", pricingURL, err)
	}
	// Each step runs its actions, then waits for the batch they cause (seq
	// of the load-th page load, 0 first) and keeps it under name (none:
	// only wait).
	steps := []struct {
		name      string
		load, seq int
		actions   []chromedp.Action[chromedp.Void]
	}{
		{"batch_first.json", 0, 1, nil},
		{"batch_custom.json", 0, 2, do(chromedp.Evaluate[chromedp.Void](`verity('signup', {plan: 'pro', seats: 3, trial: true})`))},
		{"batch_outbound.json", 0, 3, do(chromedp.Click("#outbound"))},
		// Leaving the page: pagehide, so the last batch goes by sendBeacon.
		{"batch_hide.json", 0, 4, do(chromedp.Navigate("about:blank"))},
		{"", 1, 1, do(chromedp.Navigate(docsURL))},
		// After the first batch the challenge answer (with its downloads
		// pattern) is in: the same-host .pdf link counts as a download.
		{"batch_download_attribute_event.json", 1, 2, do(chromedp.Click("#whitepaper"), chromedp.Click("#trial"))},
		{"batch_spa_navigation.json", 1, 3, do(chromedp.Evaluate[chromedp.Void](`history.pushState({}, '', '/docs/getting-started')`))},
	}
	var files []goldenFile
	for _, s := range steps {
		if err := chromedp.Do(bctx, s.actions...); err != nil {
			return nil, fmt.Errorf("page load %d, before batch %d: %w", s.load+1, s.seq, err)
		}
		b, err := st.waitBatch(ctx, s.load, s.seq)
		if err != nil {
			return nil, err
		}
		if s.name != "" {
			files = append(files, goldenFile{s.name, b.body, b.beacon})
		}
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.challenges) != 2 {
		return nil, fmt.Errorf("%d challenges, want one per page load (2)", len(st.challenges))
	}
	files = append(files, goldenFile{name: "challenge.json", body: st.challenges[0]})
	return files, check(files)
}

func do(actions ...chromedp.Action[chromedp.Void]) []chromedp.Action[chromedp.Void] { return actions }

// check refuses a capture that does not show what the README's table
// promises: each batch holds the events its action causes, only
// batch_hide.json went by sendBeacon, and the first batch has the
// permission signal (the snippet sends it once its query has answered,
// which in Chromium is long before the first batch's 1 s).
func check(files []goldenFile) error {
	want := map[string][]string{
		"batch_first.json":                    {"pageview", "dom_check"},
		"batch_custom.json":                   {"custom"},
		"batch_outbound.json":                 {"outbound"},
		"batch_hide.json":                     {"engagement", "vital"},
		"batch_download_attribute_event.json": {"download", "custom"},
		"batch_spa_navigation.json":           {"engagement", "pageview"},
	}
	var errs []error
	for _, f := range files {
		types, ok := want[f.name]
		if !ok {
			continue
		}
		var b struct {
			Events  []event                    `json:"events"`
			Signals map[string]json.RawMessage `json:"signals"`
		}
		if err := json.Unmarshal(f.body, &b); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.name, err))
			continue
		}
		for _, t := range types {
			if !slices.ContainsFunc(b.Events, func(e event) bool { return e.Type == t }) {
				errs = append(errs, fmt.Errorf("%s: no %s event in %s", f.name, t, f.body))
			}
		}
		if f.beacon != (f.name == "batch_hide.json") {
			errs = append(errs, fmt.Errorf("%s: sent by sendBeacon: %v", f.name, f.beacon))
		}
		if _, ok := b.Signals["perm"]; f.name == "batch_first.json" && !ok {
			errs = append(errs, fmt.Errorf("%s: no signals.perm in %s", f.name, f.body))
		}
	}
	return errors.Join(errs...)
}

type event struct {
	Type string `json:"type"`
}
