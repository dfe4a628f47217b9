package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds from 1 µs to 1 min with three
// significant digits: HdrHistogram's fixed relative error, the standard
// for load generators (wrk2, Gatling), in a few hundred KiB per histogram.
const (
	minLatencyUS = 1
	maxLatencyUS = 60_000_000
	sigFigs      = 3
)

// recorder collects one run's outcomes from every worker. The counters are
// atomic for the live progress line; the histograms share a mutex (a few
// tens of ns per request, far below a request's cost).
type recorder struct {
	requests atomic.Int64 // answered, any status
	events   atomic.Int64 // events accepted (the collector's "accepted" counts)
	rejected atomic.Int64

	mu       sync.Mutex
	latency  map[string]*hdrhistogram.Histogram // by endpoint, and "all"
	reasons  map[string]int64
	expected map[string]int64
}

func newRecorder() *recorder {
	return &recorder{latency: map[string]*hdrhistogram.Histogram{}, reasons: map[string]int64{}, expected: map[string]int64{}}
}

// expect notes that an answered request was sent to be refused for reason
// (a replay, a forgery).
func (r *recorder) expect(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expected[reason]++
}

// observe records one answered request: its endpoint, its latency, the
// events it got accepted, and its rejection reason ("" when accepted).
func (r *recorder) observe(endpoint string, latency time.Duration, accepted int, reason string) {
	r.requests.Add(1)
	r.events.Add(int64(accepted))
	us := max(latency.Microseconds(), minLatencyUS)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, name := range []string{endpoint, "all"} {
		h := r.latency[name]
		if h == nil {
			h = hdrhistogram.New(minLatencyUS, maxLatencyUS, sigFigs)
			r.latency[name] = h
		}
		_ = h.RecordValue(min(us, maxLatencyUS)) // clamped: cannot be out of range
	}
	if reason != "" {
		r.rejected.Add(1)
		r.reasons[reason]++
	}
}

// Latency summarises one endpoint's latencies, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Phase is what one target (the collector, or the no-op baseline) did.
type Phase struct {
	Target      string             `json:"target"`
	Seconds     float64            `json:"seconds"`
	Rate        float64            `json:"rate,omitempty"` // the requested rate; 0: as fast as possible
	Requests    int64              `json:"requests"`
	RequestsPS  float64            `json:"requests_per_s"`
	Missed      int64              `json:"missed,omitempty"` // open-loop slots never sent: the target fell behind
	Events      int64              `json:"events_accepted,omitempty"`
	EventsPS    float64            `json:"events_per_s,omitempty"`
	Rejected    map[string]int64   `json:"rejected,omitempty"`
	Expected    map[string]int64   `json:"rejections_expected,omitempty"` // those the mix asked for
	Latency     map[string]Latency `json:"latency_ms"`
	PageLoads   map[string]int64   `json:"page_loads,omitempty"` // started, by kind
	Errors      int64              `json:"errors,omitempty"`     // transport errors (no answer)
	FirstErrors []string           `json:"first_errors,omitempty"`
}

func (r *recorder) phase(target string, elapsed time.Duration, rate float64) Phase {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Phase{Target: target, Seconds: elapsed.Seconds(), Rate: rate, Requests: r.requests.Load(), Events: r.events.Load(),
		Latency: map[string]Latency{}}
	if s := elapsed.Seconds(); s > 0 {
		p.RequestsPS, p.EventsPS = float64(p.Requests)/s, float64(p.Events)/s
	}
	if len(r.reasons) > 0 {
		p.Rejected = maps.Clone(r.reasons)
	}
	if len(r.expected) > 0 {
		p.Expected = maps.Clone(r.expected)
	}
	ms := func(us int64) float64 { return float64(us) / 1000 }
	for name, h := range r.latency {
		p.Latency[name] = Latency{Count: h.TotalCount(), P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)),
			P99: ms(h.ValueAtQuantile(99)), Max: ms(h.Max())}
	}
	return p
}

// write prints the phase as text.
func (p Phase) write(w io.Writer) {
	fmt.Fprintf(w, "%s: %d requests in %.1fs = %.0f requests/s", p.Target, p.Requests, p.Seconds, p.RequestsPS)
	if p.Rate > 0 {
		fmt.Fprintf(w, " (scheduled %.0f/s", p.Rate)
		if p.Missed > 0 {
			fmt.Fprintf(w, ", %d slots missed: the target fell behind", p.Missed)
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
	if p.Events > 0 {
		fmt.Fprintf(w, "  events accepted: %d = %.0f events/s\n", p.Events, p.EventsPS)
	}
	if len(p.PageLoads) > 0 {
		fmt.Fprintf(w, "  page loads: %s\n", joinCounts(p.PageLoads))
	}
	if len(p.Rejected) > 0 {
		fmt.Fprintf(w, "  rejected: %s\n", joinCounts(p.Rejected))
	}
	if u := p.Unexpected(); len(u) > 0 {
		fmt.Fprintf(w, "  UNEXPECTED rejections (beyond the mix's replays and forgeries): %s\n", joinCounts(u))
	}
	if p.Errors > 0 {
		fmt.Fprintf(w, "  transport errors: %d (first: %s)\n", p.Errors, strings.Join(p.FirstErrors, "; "))
	}
	for _, name := range slices.Sorted(maps.Keys(p.Latency)) {
		l := p.Latency[name]
		fmt.Fprintf(w, "  latency %-9s p50 %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %7.2f ms  (%d)\n", name, l.P50, l.P90, l.P99, l.Max, l.Count)
	}
}

func joinCounts(m map[string]int64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// Unexpected is, per reason, how many more requests were refused than the
// mix sent to be refused (negative: a replay or forgery got through).
func (p Phase) Unexpected() map[string]int64 {
	out := map[string]int64{}
	for k, n := range p.Rejected {
		if d := n - p.Expected[k]; d != 0 {
			out[k] = d
		}
	}
	for k, n := range p.Expected {
		if _, ok := p.Rejected[k]; !ok {
			out[k] = -n
		}
	}
	return out
}
