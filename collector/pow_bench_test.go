package collector_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/verityhq/verity/storage"
)

// powPage records the solve_ms of every batch the snippet sends, by wrapping
// fetch before the snippet loads.
const powPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>PoW</title>
<script>window.__solve=[];var f=window.fetch;window.fetch=function(u,o){try{if(String(u).slice(-10)=="/api/event")window.__solve.push(JSON.parse(o.body).solve_ms)}catch(e){}return f.apply(this,arguments)};</script>
<script defer src="%s/s/v1.js" data-site="%s" data-localhost="true"></script></head><body><h1>PoW</h1></body></html>`

// BenchmarkSnippetPoWChromium measures how long the snippet's proof of work
// (tier 0, max 2,000) takes in Debian's headless Chromium, as the snippet
// itself reports it (solve_ms: hashing time, pauses excluded), over fresh
// page loads, without and with a 4x CPU throttle. Reported as p50 and p95 in
// ms; b.N is ignored (each sub-benchmark does 20 page loads).
//
//	go test -run '^$' -bench SnippetPoWChromium -benchtime 1x ./collector/
func BenchmarkSnippetPoWChromium(b *testing.B) {
	collectorLn, pageLn := listen(b), listen(b)
	collectorURL := "http://127.0.0.1:" + fmt.Sprint(collectorLn.Addr().(*net.TCPAddr).Port)
	pageOrigin := "http://localhost:" + fmt.Sprint(pageLn.Addr().(*net.TCPAddr).Port)
	r := newRigWith(b, func(a, _ *storage.Site) { a.AllowedOrigins = []string{pageOrigin} })
	go func() { _ = r.h.App().Listener(collectorLn) }()
	servePage(b, pageLn, fmt.Sprintf(powPage, collectorURL, r.siteA.PublicKey))
	// A desktop Chrome UA: HeadlessChrome is a declared bot, which gets no
	// puzzle at all, and the point here is the puzzle a person's browser
	// solves.
	bctx := newBrowser(b, chromedp.UserAgent(chromeUA))

	for _, rate := range []float64{1, 4} {
		b.Run(fmt.Sprintf("throttle=%gx", rate), func(b *testing.B) {
			if _, err := chromedp.Call(bctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: rate}); err != nil {
				b.Fatal(err)
			}
			var times []float64
			for range 20 {
				ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
				if err := chromedp.Do(ctx, chromedp.Navigate(pageOrigin+"/")); err != nil {
					cancel()
					b.Fatal(err)
				}
				solve, err := chromedp.Run(ctx, chromedp.Poll[float64](`window.__solve.length > 0 && window.__solve[0]`, chromedp.WithPollingTimeout(60*time.Second)))
				cancel()
				if err != nil {
					b.Fatal(err)
				}
				times = append(times, solve)
			}
			slices.Sort(times)
			b.ReportMetric(times[len(times)/2], "p50-ms")
			b.ReportMetric(times[len(times)*95/100], "p95-ms")
		})
	}
}
