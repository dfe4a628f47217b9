package collector

import (
	"context"
	"fmt"
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
		ti, seq := i/200, i%200+1
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
		ctx.Request.SetBodyString(fmt.Sprintf(`{"token":%q,"n":%d,"solve_ms":12,"seq":%d,"events":[%s]}`, toks[ti].token, toks[ti].n, seq, events))
		handler(&ctx)
		if ctx.Response.StatusCode() != 202 {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
		i++
	}
	b.ReportMetric(float64(q.n)/time.Since(start).Seconds(), "events/s")
}
