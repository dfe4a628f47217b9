// Package loadgen drives a running collector with the traffic of many
// concurrent page loads, as the snippet would send it (challenge, native
// proof of work, event batches with a browser's headers), optionally
// mixed with bots, replays and forgeries, and measures throughput and
// latency; it can also measure a no-op HTTP handler in the same run as a
// baseline. It lives under cmd/verity because only `verity loadgen` uses
// it; the protocol client it shares with the evaluation harness is
// collector/pageload.
package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/verityhq/verity/collector/pageload"
)

// Config is one run's shape.
type Config struct {
	URL         string        // the collector's base URL
	Site        string        // the site's public key
	Origin      string        // an Origin the site allows
	Duration    time.Duration // how long requests are sent
	Rate        float64       // requests per second, open loop; 0: closed loop, as fast as Concurrency allows
	Concurrency int           // page loads (and requests) in flight at once
	Mix         Mix
	// ForwardedFor sends each page load from its own X-Forwarded-For
	// address; the collector believes it only from a trusted proxy.
	ForwardedFor bool
	Timeout      time.Duration // per request; default 10s
	Seed         uint64        // for the random choices; runs with one seed send alike
}

func (c Config) validate() error {
	var errs []error
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		errs = append(errs, fmt.Errorf("--url %q: want the collector's http(s) URL", c.URL))
	}
	if c.Duration <= 0 {
		errs = append(errs, errors.New("--duration: must be positive"))
	}
	if c.Rate < 0 {
		errs = append(errs, errors.New("--rate: must be 0 (as fast as possible) or positive"))
	}
	if c.Concurrency < 1 || c.Concurrency > 10_000 {
		errs = append(errs, errors.New("--concurrency: must be 1..10000"))
	}
	return errors.Join(errs...)
}

// Progress is called about once a second with the counts so far.
type Progress func(elapsed time.Duration, requests, events, rejected int64)

// gen is one run against one target.
type gen struct {
	cfg      Config
	client   *fasthttp.Client
	sched    *schedule
	rec      *recorder
	mu       sync.Mutex
	loads    map[string]int64
	errors   int64
	firstErr []string
}

func newGen(cfg Config) *gen {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	return &gen{
		cfg: cfg, rec: newRecorder(), loads: map[string]int64{},
		client: &fasthttp.Client{
			MaxConnsPerHost:           cfg.Concurrency,
			ReadTimeout:               cfg.Timeout,
			WriteTimeout:              cfg.Timeout,
			NoDefaultUserAgentHeader:  true,
			MaxIdemponentCallAttempts: 1,
		},
	}
}

// run sends requests with `work` from Concurrency workers for the
// configured duration and returns the phase's figures.
func (g *gen) run(ctx context.Context, target string, progress Progress, work func(ctx context.Context, w *worker, due time.Time)) Phase {
	start := time.Now()
	g.sched = newSchedule(start, g.cfg.Duration, g.cfg.Rate, time.Now)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i := range g.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{g: g, rng: rand.New(rand.NewPCG(g.cfg.Seed, uint64(i))), id: i, req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
			defer fasthttp.ReleaseRequest(w.req)
			defer fasthttp.ReleaseResponse(w.resp)
			for {
				due, ok := g.sched.slot(ctx)
				if !ok {
					return
				}
				work(ctx, w, due)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-tick.C:
			if progress != nil {
				progress(time.Since(start), g.rec.requests.Load(), g.rec.events.Load(), g.rec.rejected.Load())
			}
		}
	}
	elapsed := min(time.Since(start), g.cfg.Duration+g.sched.grace)
	if g.cfg.Rate == 0 {
		elapsed = time.Since(start)
	}
	p := g.rec.phase(target, elapsed, g.cfg.Rate)
	if planned := g.sched.planned(); planned > 0 {
		p.Missed = max(0, planned-(p.Requests+g.errors))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.loads) > 0 {
		p.PageLoads = g.loads
	}
	p.Errors, p.FirstErrors = g.errors, g.firstErr
	return p
}

// worker is one sender: its own random source and reused request.
type worker struct {
	g    *gen
	rng  *rand.Rand
	id   int
	req  *fasthttp.Request
	resp *fasthttp.Response
	load *pageLoad
	n    int // page loads started
}

// post sends body to path with hdr and returns the status and answer (the
// answer is valid until the next post). A transport error is counted and
// returned.
func (w *worker) post(path string, hdr [][2]string, body []byte) (int, []byte, error) {
	w.req.Reset()
	w.resp.Reset()
	w.req.Header.SetMethod(fasthttp.MethodPost)
	w.req.SetRequestURI(w.g.cfg.URL + path)
	for _, kv := range hdr {
		w.req.Header.Set(kv[0], kv[1])
	}
	w.req.SetBody(body)
	if err := w.g.client.DoTimeout(w.req, w.resp, w.g.cfg.Timeout); err != nil {
		w.g.mu.Lock()
		w.g.errors++
		if len(w.g.firstErr) < 3 {
			w.g.firstErr = append(w.g.firstErr, err.Error())
		}
		w.g.mu.Unlock()
		return 0, nil, err
	}
	return w.resp.StatusCode(), w.resp.Body(), nil
}

// pageLoad is one virtual page load: its visitor, token and the bodies
// still to send. Each call to step sends its next request.
type pageLoad struct {
	kind    string
	hdr     [][2]string
	sig     *pageload.Signals
	visitor visitor
	url     string
	token   string
	n       uint32
	solveMS int
	bodies  [][]byte // event batches still to send, in order
	expect  []string // the rejection each body should meet ("" for none)
	started bool
	done    bool
}

func (w *worker) newPageLoad() *pageLoad {
	g := w.g
	kind := g.cfg.Mix.pick(w.rng)
	v := pickVisitor(kind, w.rng)
	hdr, sig := v.request(g.cfg.Origin, w.id*1_000_003+w.n)
	w.n++
	if g.cfg.ForwardedFor {
		hdr = append(hdr, [2]string{"X-Forwarded-For", forwardedFor(w.rng)})
	}
	g.mu.Lock()
	g.loads[kind]++
	g.mu.Unlock()
	return &pageLoad{kind: kind, hdr: hdr, sig: sig, visitor: v, url: g.cfg.Origin + pages[w.rng.IntN(len(pages))]}
}

// collectorStep sends the next request of the worker's page load (a new
// one when the last is over) and records it.
func collectorStep(_ context.Context, w *worker, due time.Time) {
	if w.load == nil || w.load.done {
		w.load = w.newPageLoad()
	}
	pl := w.load
	if !pl.started {
		pl.started = true
		w.challenge(pl, due)
		return
	}
	body, expect := pl.bodies[0], pl.expect[0]
	pl.bodies, pl.expect = pl.bodies[1:], pl.expect[1:]
	pl.done = len(pl.bodies) == 0
	status, answer, err := w.post("/api/event", pl.hdr, body)
	if err != nil {
		pl.done = true
		return
	}
	latency := time.Since(due)
	if expect != "" {
		w.g.rec.expect(expect)
	}
	if status != fasthttp.StatusAccepted {
		pl.done = true
		w.g.rec.observe("event", latency, 0, pageload.ErrorCode(status, answer))
		return
	}
	var a struct{ Accepted int }
	if json.Unmarshal(answer, &a) != nil {
		a.Accepted = 0
	}
	w.g.rec.observe("event", latency, a.Accepted, "")
}

// challenge asks for the page load's token, solves its proof of work and
// prepares its batches (a replay re-sends its first; a forgery tampers
// with the token's signature).
func (w *worker) challenge(pl *pageLoad, due time.Time) {
	body, _ := json.Marshal(pageload.ChallengeRequest{Site: w.g.cfg.Site, URL: pl.url})
	status, answer, err := w.post("/api/challenge", pl.hdr, body)
	if err != nil {
		pl.done = true
		return
	}
	latency := time.Since(due)
	if status != fasthttp.StatusOK {
		pl.done = true
		w.g.rec.observe("challenge", latency, 0, pageload.ErrorCode(status, answer))
		return
	}
	var ch pageload.Challenge
	err = json.Unmarshal(answer, &ch)
	w.g.rec.observe("challenge", latency, 0, "")
	if err != nil {
		pl.done = true
		return
	}
	solveStart := time.Now()
	_, n, err := ch.Solve()
	if err != nil {
		pl.done = true
		return
	}
	// The browser's time for n+1 hashes (≈ 200k hashes/s in the snippet's
	// worker), not the native solver's: what a real visitor reports.
	pl.n, pl.solveMS = n, max(int(time.Since(solveStart).Milliseconds()), int(n)/200+1)
	pl.token = ch.Token
	if pl.kind == kindForge {
		pl.token = forge(pl.token)
	}
	for i, events := range batches(w.rng, w.g.cfg.Origin, pl.visitor, pl.sig) {
		b := pageload.Batch{Token: pl.token, N: pl.n, SolveMS: pl.solveMS, Seq: i + 1, Events: events}
		if i == 0 {
			b.Signals = pl.sig
		}
		raw, _ := json.Marshal(b)
		pl.bodies = append(pl.bodies, raw)
	}
	pl.expect = make([]string, len(pl.bodies))
	switch pl.kind {
	case kindReplay: // the first batch again, after it was accepted
		pl.bodies = [][]byte{pl.bodies[0], pl.bodies[0], pl.bodies[1]}
		pl.expect = []string{"", ReasonReplay, ""}
	case kindForge: // refused at once
		pl.bodies, pl.expect = pl.bodies[:1], []string{ReasonForged}
	}
}

// The collector's rejection codes for what the mix sends on purpose
// (docs/protocol.md).
const (
	ReasonReplay = "replay"
	ReasonForged = "token_bad_mac"
)

// forge flips one character of the token's signature (its tail), as a
// client that mints or edits tokens would produce.
func forge(token string) string {
	b := []byte(token)
	i := len(b) - 8
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
