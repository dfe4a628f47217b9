package collector

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/storage"
)

type countingQueue struct{ n int }

func (q *countingQueue) Enqueue(ev ...storage.Event) error { q.n += len(ev); return nil }
func (*countingQueue) SpoolNearlyFull() bool               { return false }

// BenchmarkEventHandler measures POST /api/event end to end inside the
// process: routing, strict decoding, site lookup, Origin check, token and
// proof-of-work verification, replay check, enrichment (UA cache hit, page,
// referrer, visitor hash, session) and scoring, with a batch of 3 events;
// the queue only counts. Reported as events/s.
func BenchmarkEventHandler(b *testing.B) {
	site := storage.Site{ID: uuid.New(), PublicKey: "pk_bench", AllowedOrigins: []string{"https://www.example.com"}}
	q := &countingQueue{}
	h := newTestHandler(b, Deps{Queue: q, Sites: &fakeSites{sites: []storage.Site{site}}})
	h.cfg.ChallengeRate = 0
	if err := h.sites.refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	handler := h.App().Handler()
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	// Tokens are issued and solved up front: the browser's work, not ours.
	type tok struct {
		token string
		n     uint32
	}
	var toks []tok
	newToken := func() tok {
		t, c, err := h.issuer.Issue(abuse.IssueRequest{SiteID: site.ID, UserAgent: ua, Origin: "https://www.example.com"})
		if err != nil {
			b.Fatal(err)
		}
		n, ok := abuse.SolvePoW(c)
		if !ok {
			b.Fatal("unsolvable")
		}
		return tok{t, n}
	}
	for range 64 {
		toks = append(toks, newToken())
	}
	const events = `{"type":"pageview","url":"https://www.example.com/pricing?utm_source=x","referrer":"https://www.google.com/","title":"Pricing","screen_w":1440,"lang":"en","tz":"UTC"},{"type":"vital","url":"https://www.example.com/pricing","name":"TTFB","value":80},{"type":"engagement","url":"https://www.example.com/pricing","ms":5000,"scroll":50}`
	var ctx fasthttp.RequestCtx
	i := 0
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		// 60 batches of 3 events per token: under the 200 events a page load may send.
		ti, seq := i/60, i%60+1
		for ti >= len(toks) {
			b.StopTimer()
			toks = append(toks, newToken())
			b.StartTimer()
		}
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/api/event")
		ctx.Request.Header.SetContentType("text/plain")
		ctx.Request.Header.Set("Origin", "https://www.example.com")
		ctx.Request.Header.SetUserAgent(ua)
		ctx.Request.Header.Set("Accept-Language", "en-US,en;q=0.9")
		ctx.Request.Header.Set("Sec-Fetch-Mode", "cors")
		ctx.Request.Header.Set("Sec-CH-UA-Platform", `"Linux"`)
		ctx.Request.SetBodyString(fmt.Sprintf(`{"token":%q,"n":%d,"solve_ms":12,"seq":%d,"events":[%s]}`, toks[ti].token, toks[ti].n, seq, events))
		handler(&ctx)
		if ctx.Response.StatusCode() != 202 {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
		i++
	}
	b.ReportMetric(float64(q.n)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkVerifyAndScore measures what ABUSE.md's target (50k events/s per
// core) counts: verifying one event's token and proof of work, its replay
// window, and scoring it with every signal (UA lists from the cache, the
// network, headers, time zone, the page load's remembered signals) — no
// HTTP, no JSON, no insert. One event per verification, the worst case.
func BenchmarkVerifyAndScore(b *testing.B) {
	site := storage.Site{ID: uuid.New(), PublicKey: "pk_bench", AllowedOrigins: []string{"https://www.example.com"}}
	h := newTestHandler(b, Deps{Queue: &countingQueue{}, Sites: &fakeSites{sites: []storage.Site{site}}})
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	const origin = "https://www.example.com"
	ip := netip.MustParseAddr("203.0.113.7")
	var toks []string
	var ns []uint32
	for range 256 {
		t, c, err := h.issuer.Issue(abuse.IssueRequest{SiteID: site.ID, ClientIP: ip, UserAgent: ua, Origin: origin})
		if err != nil {
			b.Fatal(err)
		}
		n, _ := abuse.SolvePoW(c)
		toks, ns = append(toks, t), append(ns, n)
	}
	hd := requestHeaders{userAgent: ua, secCHUAPlatform: `"Linux"`, secFetchMode: "cors", acceptLanguage: "en"}
	events := []wireEvent{{Type: "pageview", URL: "https://www.example.com/", Referrer: "https://www.google.com/", TZ: "Europe/Berlin"}}
	ws := &wireSignals{Langs: 2, Win: []int{1280, 720, 1280, 800}, Perm: "promptdefault"}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		k, seq := i%len(toks), uint32(i/len(toks)+1)
		if seq > 200 {
			b.StopTimer()
			h.replay = abuse.NewReplayGuard(abuse.ReplayConfig{}, h.now)
			i = 0
			k, seq = 0, 1
			b.StartTimer()
		}
		v, err := h.issuer.Verify(abuse.VerifyRequest{Token: toks[k], SiteID: site.ID, ClientIP: ip, UserAgent: ua, Origin: origin, PowN: ns[k]})
		if err != nil {
			b.Fatal(err)
		}
		if err := h.replay.Check(v.PageLoadID, seq, v.Expires()); err != nil {
			b.Fatal(err)
		}
		agent := h.ua.Parse(ua)
		s, flags := h.pages.remember(v.PageLoadID, ws, batchFlags(events, "DE", h.now()), v.Expires())
		if r := h.scoring.Score(h.signals(&hd, agent, h.network.Classify(ip), v, s, flags)); r.Verdict != abuse.VerdictOK {
			b.Fatalf("scored %+v", r)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
