package loadgen

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"

	"github.com/verityhq/verity/collector/evaluate"
	"github.com/verityhq/verity/collector/pageload"
)

// visitor is one simulated browser: a profile from a small set of common
// ones, the time zone that goes with its language, and whether it is
// automation.
type visitor struct {
	profile  evaluate.Profile
	tz       string
	hdrKind  string // evaluate's header model
	sigKind  string // evaluate's signal model
	declared bool   // a crawler that says so: no signal blob
}

// humans are common browsers (UA strings as the browsers send them);
// evaluate's browser model derives their headers (client hints, fetch
// metadata, Accept-Language) and signal blobs.
var humans = []visitor{
	{profile: evaluate.Profile{UA: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", Language: "en-US", Screen: [2]int{1920, 1080}, Viewport: [2]int{1536, 730}, Device: "desktop"}, tz: "America/New_York"},
	{profile: evaluate.Profile{UA: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", Language: "de-DE", Screen: [2]int{1440, 900}, Viewport: [2]int{1440, 789}, Device: "desktop"}, tz: "Europe/Berlin"},
	{profile: evaluate.Profile{UA: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", Language: "fr-FR", Screen: [2]int{2560, 1440}, Viewport: [2]int{1280, 1289}, Device: "desktop"}, tz: "Europe/Paris"},
	{profile: evaluate.Profile{UA: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", Language: "en-GB", Screen: [2]int{412, 915}, Viewport: [2]int{412, 782}, Device: "mobile"}, tz: "Europe/London"},
	{profile: evaluate.Profile{UA: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", Language: "ja-JP", Screen: [2]int{390, 844}, Viewport: [2]int{390, 664}, Device: "mobile"}, tz: "Asia/Tokyo"},
	{profile: evaluate.Profile{UA: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", Language: "es-ES", Screen: [2]int{1366, 768}, Viewport: [2]int{1366, 641}, Device: "desktop"}, tz: "Europe/Madrid"},
}

// bots are the automation share: headless Chromium as a scraper runs it
// (flagged by its signals and headers, stored as invalid) and a crawler
// that declares itself (no puzzle, stored as general invalid traffic).
var bots = []visitor{
	{profile: evaluate.Profile{UA: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", Language: "en-US"}, tz: "UTC", hdrKind: "headless_chromium", sigKind: "headless"},
	{profile: evaluate.Profile{UA: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}, tz: "UTC", hdrKind: "bare", sigKind: "none", declared: true},
}

func pickVisitor(kind string, rng *rand.Rand) visitor {
	if kind == kindBot {
		return bots[rng.IntN(len(bots))]
	}
	v := humans[rng.IntN(len(humans))]
	v.hdrKind, v.sigKind = "browser", "browser"
	return v
}

// request is the visitor's headers as name/value pairs (ready for
// fasthttp) and its signal blob.
func (v visitor) request(origin string, i int) ([][2]string, *pageload.Signals) {
	h, sig := evaluate.BrowserRequest(v.hdrKind, v.sigKind, v.profile, origin, i)
	return headerPairs(h), sig
}

func headerPairs(h http.Header) [][2]string {
	out := make([][2]string, 0, len(h))
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, [2]string{k, v})
		}
	}
	return out
}

// forwardedFor is a client address for X-Forwarded-For, spread over many
// networks so that per-network limits and proof-of-work tiers see many
// clients: IPv4 from 198.18.0.0/15 (reserved for benchmarks, RFC 2544) or
// IPv6 from 2001:db8::/32 (documentation). Nothing is sent there; it is
// only a header.
func forwardedFor(rng *rand.Rand) string {
	if rng.IntN(2) == 0 {
		return netip.AddrFrom4([4]byte{198, 18 + byte(rng.IntN(2)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))}).String()
	}
	return fmt.Sprintf("2001:db8:%x:%x::%x", rng.IntN(1<<16), rng.IntN(1<<16), 1+rng.IntN(1<<16-1))
}

// pages a visitor lands on, with and without campaign parameters.
var pages = []string{"/", "/pricing", "/blog/verified-analytics", "/docs/getting-started", "/about", "/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring", "/blog/?utm_source=twitter"}

var referrers = []string{"", "", "https://www.google.com/", "https://duckduckgo.com/", "https://news.ycombinator.com/", "https://t.co/abc"}

// batches are the event batches a snippet sends for one page load (read
// from script/testdata/golden and docs/protocol.md): the first with the
// pageview, the first Web Vitals, the DOM checks and the signal blob;
// then a custom event and LCP; then engagement, INP and CLS when the page
// is hidden.
func batches(rng *rand.Rand, origin string, v visitor, sig *pageload.Signals) [][]pageload.Event {
	url := origin + pages[rng.IntN(len(pages))]
	lang, screen := v.profile.Language, v.profile.Screen[0]
	if sig == nil { // no snippet ran: a client that invents less
		lang, screen = "", 0
	}
	first := []pageload.Event{
		{Type: "pageview", URL: url, Referrer: referrers[rng.IntN(len(referrers))], Title: "Verified analytics – Example", ScreenW: screen, Lang: lang, TZ: v.tz},
		{Type: "vital", URL: url, Name: "TTFB", Value: float64(40 + rng.IntN(400))},
		{Type: "vital", URL: url, Name: "FCP", Value: float64(200 + rng.IntN(1500))},
		{Type: "dom_check", URL: url, Checks: map[string][]int{"canonical": {1, 0}, "description": {1, 40 + rng.IntN(150)}, "h1": {1 + rng.IntN(2), 0},
			"img_no_alt": {rng.IntN(3), 0}, "lang": {1, 0}, "noindex": {0, 0}, "title": {1, 20 + rng.IntN(50)}, "viewport": {1, 35}}},
	}
	second := []pageload.Event{
		{Type: "vital", URL: url, Name: "LCP", Value: float64(500 + rng.IntN(3000))},
		{Type: "custom", URL: url, Name: []string{"signup", "cta_click", "newsletter"}[rng.IntN(3)], Props: map[string]string{"plan": []string{"free", "pro", "team"}[rng.IntN(3)]}},
	}
	third := []pageload.Event{
		{Type: "engagement", URL: url, MS: int64(2000 + rng.IntN(120_000)), Scroll: rng.IntN(101)},
		{Type: "vital", URL: url, Name: "INP", Value: float64(20 + rng.IntN(300))},
		{Type: "vital", URL: url, Name: "CLS", Value: float64(rng.IntN(300)) / 1000},
	}
	return [][]pageload.Event{first, second, third}
}
