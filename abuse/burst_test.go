package abuse

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func newTestBursts(t testing.TB, clk *testClock, mut func(*BurstConfig)) *PageviewBursts {
	t.Helper()
	cfg := DefaultBehaviourConfig().Burst
	if mut != nil {
		mut(&cfg)
	}
	return NewPageviewBursts(cfg, clk.Now)
}

func TestPageviewBursts(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	type pv struct {
		at   time.Duration // since t0
		n    int
		want bool
	}
	// Defaults: 10 pageviews at once, refilling at 10 per 10 s.
	for _, tc := range []struct {
		name  string
		steps []pv
	}{
		{"ten at once are fine, the eleventh is a burst", []pv{{0, 10, false}, {0, 1, true}}},
		{"eleven in one batch", []pv{{0, 11, true}}},
		{"one a second forever", func() []pv {
			var s []pv
			for i := range 60 {
				s = append(s, pv{time.Duration(i) * time.Second, 1, false})
			}
			return s
		}()},
		{"ten tabs, then reading", []pv{{0, 10, false}, {2 * time.Second, 1, false}, {4 * time.Second, 1, false}, {6 * time.Second, 1, false}}},
		{"the allowance refills", []pv{{0, 10, false}, {3 * time.Second, 3, false}, {3 * time.Second, 1, true}}},
		{"a fast bot stays flagged", []pv{{0, 11, true}, {500 * time.Millisecond, 1, true}, {time.Second, 1, true}, {5 * time.Second, 1, true}}},
		{"a slower bot stays flagged too", []pv{{0, 11, true}, {9 * time.Second, 1, true}, {18 * time.Second, 1, true}, {27 * time.Second, 1, true}}},
		// A burst fills the bucket to two Windows: a Window and a
		// pageview's share after the bot stops, it is forgiven.
		{"forgiven after it stops", []pv{{0, 50, true}, {11 * time.Second, 1, false}, {12 * time.Second, 1, false}}},
		{"not a moment sooner", []pv{{0, 50, true}, {11*time.Second - time.Millisecond, 1, true}}},
		{"n = 0 only looks", []pv{{0, 0, false}, {0, 11, true}, {0, 0, true}, {20 * time.Second, 0, false}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			clk := newTestClock(t0)
			b := newTestBursts(t, clk, nil)
			for i, s := range tc.steps {
				clk.Set(t0.Add(s.at))
				if got := b.Pageviews(7, s.n); got != s.want {
					t.Errorf("step %d (+%v, %d pageviews): burst %v, want %v", i, s.at, s.n, got, s.want)
				}
			}
			// Another visitor is not affected.
			if b.Pageviews(8, 1) {
				t.Error("another visitor is bursting")
			}
		})
	}
}

func TestPageviewBurstsSweepAndCap(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	b := newTestBursts(t, clk, func(c *BurstConfig) { c.MaxVisitors = 1 })
	b.Pageviews(1, 5) // drains 5 s from now
	// At the cap, another visitor is neither tracked nor flagged.
	if b.Pageviews(2, 100) || b.Len() != 1 {
		t.Errorf("untracked visitor flagged, or Len %d != 1", b.Len())
	}
	if n := b.Sweep(t0.Add(5*time.Second - time.Nanosecond)); n != 0 {
		t.Errorf("sweep before the bucket drained: %d dropped", n)
	}
	if n := b.Sweep(t0.Add(5 * time.Second)); n != 1 || b.Len() != 0 {
		t.Errorf("sweep once drained: %d dropped, Len %d; want 1, 0", n, b.Len())
	}
	// A full shard sweeps itself (at most once a second) to make room.
	b.Pageviews(1, 5)
	clk.Set(t0.Add(6 * time.Second))
	if b.Pageviews(2, 5) {
		t.Error("visitor 2: burst")
	}
	if !b.Pageviews(2, 6) || b.Len() != 1 {
		t.Errorf("visitor 2 is not tracked after the shard swept visitor 1 (Len %d)", b.Len())
	}
}

// TestPageviewBurstsConcurrent: with the clock still, exactly Pageviews of
// all the pageviews fit, whatever the interleaving (run with -race).
func TestPageviewBurstsConcurrent(t *testing.T) {
	t.Parallel()
	clk := newTestClock(tokenT0())
	b := newTestBursts(t, clk, func(c *BurstConfig) { c.Pageviews = 1000 })
	const workers, each = 8, 500
	var bursts atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				if b.Pageviews(42, 1) {
					bursts.Add(1)
				}
				b.Pageviews(uint64(100+w), 1) // a visitor per worker
			}
		})
	}
	wg.Wait()
	if got := bursts.Load(); got != workers*each-1000 {
		t.Errorf("%d bursts, want %d", got, workers*each-1000)
	}
	if b.Len() != workers+1 {
		t.Errorf("Len %d, want %d", b.Len(), workers+1)
	}
}

func TestPageviewBurstsDoesNotAllocate(t *testing.T) {
	b := newTestBursts(t, newTestClock(tokenT0()), nil)
	b.Pageviews(1, 1)
	if n := testing.AllocsPerRun(1000, func() { b.Pageviews(1, 1) }); n != 0 {
		t.Errorf("Pageviews of a tracked visitor: %v allocations, want 0", n)
	}
}

func newTestPageLoads(t testing.TB, clk *testClock, mut func(*PageLoadConfig)) *PageLoadEvents {
	t.Helper()
	cfg := DefaultBehaviourConfig().PageLoad
	if mut != nil {
		mut(&cfg)
	}
	return NewPageLoadEvents(cfg, clk.Now)
}

func TestPageLoadEvents(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	p := newTestPageLoads(t, clk, nil)
	exp := t0.Add(30 * time.Minute)
	a, b := testPLID(1), testPLID(2)
	for i, step := range []struct {
		plid                 [16]byte
		events, interactions uint32
		want                 PageLoadTally
	}{
		{a, 50, 0, PageLoadTally{Events: 50}},
		{a, 50, 2, PageLoadTally{Events: 100, Interactions: 2}},
		{b, 3, 1, PageLoadTally{Events: 3, Interactions: 1}},
		{a, 20, 0, PageLoadTally{Events: 120, Interactions: 2}},               // at the threshold: fine
		{a, 1, 1, PageLoadTally{Events: 121, Interactions: 3, TooMany: true}}, // over it
		{a, 0, 0, PageLoadTally{Events: 121, Interactions: 3, TooMany: true}}, // and stays over
		{b, 0, 0, PageLoadTally{Events: 3, Interactions: 1}},
		{testPLID(3), 121, 0, PageLoadTally{Events: 121, TooMany: true}}, // a forged first batch
	} {
		if got := p.Add(step.plid, step.events, step.interactions, exp); got != step.want {
			t.Errorf("step %d: %+v, want %+v", i, got, step.want)
		}
	}
}

func TestPageLoadEventsExpiryAndCap(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	p := newTestPageLoads(t, clk, func(c *PageLoadConfig) { c.MaxPageLoads = 1 })
	a, b := testPLID(1), testPLID(2)
	expA := t0.Add(time.Minute + 500*time.Millisecond) // rounded up to +61s
	p.Add(a, 100, 0, expA)
	// At the cap, another page load is judged by its batch alone.
	for range 2 {
		if got := p.Add(b, 100, 1, t0.Add(time.Hour)); got != (PageLoadTally{Events: 100, Interactions: 1}) {
			t.Errorf("untracked page load: %+v", got)
		}
	}
	if got := p.Add(b, 121, 0, t0.Add(time.Hour)); !got.TooMany {
		t.Error("an untracked batch of 121 events is not too many")
	}
	if n := p.Sweep(t0.Add(61*time.Second - time.Nanosecond)); n != 0 {
		t.Errorf("sweep before expiry dropped %d", n)
	}
	if n := p.Sweep(t0.Add(61 * time.Second)); n != 1 || p.Len() != 0 {
		t.Errorf("sweep at expiry: %d dropped, Len %d; want 1, 0", n, p.Len())
	}
	// A full shard sweeps itself to make room.
	p.Add(a, 1, 0, expA)
	clk.Set(t0.Add(2 * time.Minute))
	p.Add(b, 100, 0, t0.Add(time.Hour))
	if got := p.Add(b, 21, 0, t0.Add(time.Hour)); got != (PageLoadTally{Events: 121, TooMany: true}) {
		t.Errorf("b after a expired: %+v, want tracked", got)
	}
}

func TestPageLoadEventsConcurrent(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	p := newTestPageLoads(t, newTestClock(t0), nil)
	const workers, each = 8, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				p.Add(testPLID(0), 1, 1, t0.Add(time.Hour))
				p.Add(testPLID(uint32(1+w)), 2, 0, t0.Add(time.Hour))
			}
		})
	}
	wg.Wait()
	if got := p.Add(testPLID(0), 0, 0, t0.Add(time.Hour)); got != (PageLoadTally{Events: 800, Interactions: 800, TooMany: true}) {
		t.Errorf("shared page load: %+v", got)
	}
	for w := range workers {
		if got := p.Add(testPLID(uint32(1+w)), 0, 0, t0.Add(time.Hour)); got.Events != 2*each {
			t.Errorf("worker %d: %+v", w, got)
		}
	}
}

func TestPageLoadEventsDoesNotAllocate(t *testing.T) {
	t0 := tokenT0()
	p := newTestPageLoads(t, newTestClock(t0), nil)
	plid, exp := testPLID(1), t0.Add(time.Hour)
	p.Add(plid, 1, 0, exp)
	if n := testing.AllocsPerRun(1000, func() { p.Add(plid, 1, 0, exp) }); n != 0 {
		t.Errorf("Add to a tracked page load: %v allocations, want 0", n)
	}
}

// BenchmarkPageviewBursts is a pageview of a tracked visitor among ≈ 1,000.
func BenchmarkPageviewBursts(b *testing.B) {
	bu := newTestBursts(b, newTestClock(tokenT0()), nil)
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		bu.Pageviews(i%1024, 1)
		i++
	}
}

// BenchmarkPageLoadEvents is a batch of a tracked page load among ≈ 1,000.
func BenchmarkPageLoadEvents(b *testing.B) {
	t0 := tokenT0()
	p := newTestPageLoads(b, newTestClock(t0), nil)
	exp := t0.Add(time.Hour)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		p.Add(testPLID(i%1024), 1, 0, exp)
		i++
	}
}
