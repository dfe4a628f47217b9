package abuse

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"
)

// testPrefix is an IP-prefix key; n sets its first bytes.
func testPrefix(n uint32) [8]byte {
	return [8]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24), 0x5a}
}

func newTestVelocity(t testing.TB, clk *testClock, mut func(*VelocityConfig)) *Velocity {
	t.Helper()
	cfg := DefaultBehaviourConfig().Velocity
	if mut != nil {
		mut(&cfg)
	}
	return NewVelocity(cfg, clk.Now)
}

// issueN issues n challenges for p and returns the tier of each.
func issueN(v *Velocity, p [8]byte, n int) []Tier {
	out := make([]Tier, n)
	for i := range out {
		out[i] = v.Issue(p)
	}
	return out
}

// firstAt returns the index of the first tier in ts that is want, or -1.
func firstAt(ts []Tier, want Tier) int {
	for i, t := range ts {
		if t == want {
			return i
		}
	}
	return -1
}

func TestVelocityEscalatesImmediately(t *testing.T) {
	t.Parallel()
	t0 := tokenT0() // on a minute and an hour boundary
	clk := newTestClock(t0)
	v := newTestVelocity(t, clk, nil)
	p := testPrefix(1)
	tiers := issueN(v, p, 100)
	// Defaults: more than 30 a minute is elevated, more than 90 high. The
	// challenge that crosses the threshold already gets the higher tier.
	if i := firstAt(tiers, TierElevated); i != 30 {
		t.Errorf("first elevated at challenge %d, want 30 (the 31st)", i)
	}
	if i := firstAt(tiers, TierHigh); i != 90 {
		t.Errorf("first high at challenge %d, want 90 (the 91st)", i)
	}
	for i, tier := range tiers {
		want := TierNormal
		switch {
		case i >= 90:
			want = TierHigh
		case i >= 30:
			want = TierElevated
		}
		if tier != want {
			t.Fatalf("challenge %d: %v, want %v", i, tier, want)
		}
	}
	if got := v.Pressure(p); got != TierHigh {
		t.Errorf("Pressure = %v, want high", got)
	}
	// Other prefixes are not affected.
	if got := v.Issue(testPrefix(2)); got != TierNormal {
		t.Errorf("another prefix: %v, want normal", got)
	}
	if got := v.Pressure(testPrefix(3)); got != TierNormal {
		t.Errorf("an unseen prefix: %v, want normal", got)
	}
}

func TestVelocityDecaysOneTierPerQuietPeriod(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	v := newTestVelocity(t, clk, nil) // DecayAfter 10m
	p := testPrefix(1)
	if tiers := issueN(v, p, 91); tiers[90] != TierHigh {
		t.Fatalf("91 challenges at once: %v, want high", tiers[90])
	}
	for _, step := range []struct {
		at    time.Duration
		issue bool // issue a challenge (a quiet one) rather than only look
		want  Tier
	}{
		{2 * time.Minute, false, TierHigh}, // the minute window is empty, the tier holds
		{5 * time.Minute, true, TierHigh},  // a pause does not reset the burst, nor does a quiet challenge restart the decay
		{10*time.Minute - time.Second, false, TierHigh},
		{10 * time.Minute, false, TierElevated}, // one step down, counted from the last hot challenge
		{15 * time.Minute, true, TierElevated},
		{20*time.Minute - time.Second, false, TierElevated},
		{20 * time.Minute, false, TierNormal},
		{21 * time.Minute, true, TierNormal},
	} {
		clk.Set(t0.Add(step.at))
		got := v.Pressure(p)
		if step.issue {
			got = v.Issue(p)
		}
		if got != step.want {
			t.Errorf("at +%v (issue %v): %v, want %v", step.at, step.issue, got, step.want)
		}
	}
}

func TestVelocityRenewedHeatRestartsDecay(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	v := newTestVelocity(t, clk, nil)
	p := testPrefix(1)
	issueN(v, p, 91) // high at t0
	// At +10m it has decayed to elevated; 31 challenges within a minute are
	// elevated again, so the elevated tier now lasts from +10m.
	clk.Set(t0.Add(10 * time.Minute))
	if tiers := issueN(v, p, 31); tiers[30] != TierElevated {
		t.Fatalf("+10m, 31st challenge: %v, want elevated", tiers[30])
	}
	clk.Set(t0.Add(20*time.Minute - time.Second))
	if got := v.Pressure(p); got != TierElevated {
		t.Errorf("+20m-1s: %v, want elevated (the decay restarted at +10m)", got)
	}
	clk.Set(t0.Add(20 * time.Minute))
	if got := v.Pressure(p); got != TierNormal {
		t.Errorf("+20m: %v, want normal", got)
	}
}

func TestVelocitySlidingWindow(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0.Add(59 * time.Second))
	v := newTestVelocity(t, clk, nil)
	p := testPrefix(1)
	if tiers := issueN(v, p, 30); tiers[29] != TierNormal {
		t.Fatalf("30 challenges: %v, want normal", tiers[29])
	}
	// A second later a new minute begins, but the window slides: the 30
	// are still in it, so one more is the 31st.
	clk.Set(t0.Add(60 * time.Second))
	if got := v.Issue(p); got != TierElevated {
		t.Errorf("next minute, 31st within 60s: %v, want elevated", got)
	}
	// With half of the previous minute out of the window, a prefix that
	// made 30 challenges at the end of it counts as 15 (the two-bucket
	// estimate): 15 more are fine, the 16th is not.
	clk2 := newTestClock(t0.Add(59 * time.Second))
	v2 := newTestVelocity(t, clk2, nil)
	issueN(v2, p, 30)
	clk2.Set(t0.Add(90 * time.Second))
	tiers := issueN(v2, p, 16)
	if i := firstAt(tiers, TierElevated); i != 15 {
		t.Errorf("half a minute on: first elevated at %d, want 15", i)
	}
}

func TestVelocityHourWindow(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	v := newTestVelocity(t, clk, nil)
	p := testPrefix(1)
	// A steady 11 a minute never crosses 30 a minute, but an hour of it
	// crosses 600 an hour: the 601st challenge is elevated.
	var tiers []Tier
	for m := range 60 {
		clk.Set(t0.Add(time.Duration(m) * time.Minute))
		tiers = append(tiers, issueN(v, p, 11)...)
	}
	if i := firstAt(tiers, TierElevated); i != 600 {
		t.Errorf("first elevated at challenge %d, want 600 (the 601st)", i)
	}
	if i := firstAt(tiers, TierHigh); i != -1 {
		t.Errorf("high at challenge %d, want never", i)
	}
}

func TestVelocitySweep(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	v := newTestVelocity(t, clk, nil)
	hot, quiet := testPrefix(1), testPrefix(2)
	issueN(v, hot, 91)
	v.Issue(quiet)
	// Within two hours the hour window still holds both.
	if n := v.Sweep(t0.Add(2*time.Hour - time.Second)); n != 0 || v.Len() != 2 {
		t.Errorf("sweep at +2h-1s: dropped %d, Len %d; want 0, 2", n, v.Len())
	}
	if n := v.Sweep(t0.Add(2 * time.Hour)); n != 2 || v.Len() != 0 {
		t.Errorf("sweep at +2h: dropped %d, Len %d; want 2, 0", n, v.Len())
	}

	// A raised tier keeps an entry past its empty windows until it decays.
	v = newTestVelocity(t, clk, func(c *VelocityConfig) { c.DecayAfter = 2 * time.Hour })
	issueN(v, hot, 91)
	for _, at := range []time.Duration{2 * time.Hour, 4*time.Hour - time.Second} {
		if n := v.Sweep(t0.Add(at)); n != 0 {
			t.Errorf("sweep at +%v: dropped %d, want 0 (the tier has not decayed)", at, n)
		}
	}
	if n := v.Sweep(t0.Add(4 * time.Hour)); n != 1 {
		t.Errorf("sweep at +4h: dropped %d, want 1", n)
	}
}

func TestVelocityCap(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	v := newTestVelocity(t, clk, func(c *VelocityConfig) { c.MaxPrefixes = 1 })
	a, b := testPrefix(1), testPrefix(2)
	if got := v.Issue(a); got != TierNormal {
		t.Fatalf("first prefix: %v", got)
	}
	// Full of live entries: an untracked prefix pays the elevated tier and
	// is not counted.
	for range 3 {
		if got := v.Issue(b); got != TierElevated {
			t.Errorf("untracked prefix at the cap: %v, want elevated", got)
		}
	}
	if v.Len() != 1 || v.Pressure(b) != TierNormal {
		t.Errorf("Len %d, Pressure(b) %v: want 1, normal", v.Len(), v.Pressure(b))
	}
	// Once the tracked prefix has expired the full shard sweeps it and
	// makes room.
	clk.Set(t0.Add(2 * time.Hour))
	if got := v.Issue(b); got != TierNormal {
		t.Errorf("after a's expiry: %v, want normal", got)
	}
	if v.Len() != 1 || v.Pressure(a) != TierNormal {
		t.Errorf("Len %d: want 1 (a swept, b tracked)", v.Len())
	}
}

// TestVelocityConcurrent counts from many goroutines at once: every
// challenge is counted (run with -race).
func TestVelocityConcurrent(t *testing.T) {
	t.Parallel()
	clk := newTestClock(tokenT0())
	v := newTestVelocity(t, clk, nil)
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				v.Issue(testPrefix(0))                 // shared by all
				v.Issue(testPrefix(uint32(1 + w)))     // one per worker
				v.Pressure(testPrefix(uint32(i % 16))) // readers too
			}
		})
	}
	wg.Wait()
	counted := func(p [8]byte) uint32 {
		sh := v.t.shard(binary.LittleEndian.Uint64(p[:]))
		sh.mu.Lock()
		defer sh.mu.Unlock()
		return sh.m[p].minute.cur
	}
	if got := counted(testPrefix(0)); got != workers*each {
		t.Errorf("shared prefix counted %d, want %d", got, workers*each)
	}
	for w := range workers {
		if got := counted(testPrefix(uint32(1 + w))); got != each {
			t.Errorf("worker %d's prefix counted %d, want %d", w, got, each)
		}
	}
	if v.Pressure(testPrefix(0)) != TierHigh || v.Pressure(testPrefix(1)) != TierHigh {
		t.Error("4,000 and 500 challenges in a minute should both be high")
	}
}

func TestVelocityDoesNotAllocate(t *testing.T) {
	clk := newTestClock(tokenT0())
	v := newTestVelocity(t, clk, nil)
	p := testPrefix(1)
	v.Issue(p)
	if n := testing.AllocsPerRun(1000, func() { v.Issue(p); v.Pressure(p) }); n != 0 {
		t.Errorf("Issue and Pressure of a tracked prefix: %v allocations, want 0", n)
	}
}

func TestTierFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		net      NetClass
		pressure Tier
		want     Tier
	}{
		{"residential, normal rate", NetClass{}, TierNormal, TierNormal},
		{"residential, high rate", NetClass{ASN: 3320}, TierElevated, TierElevated},
		{"residential, very high rate", NetClass{}, TierHigh, TierHigh},
		{"hosting", NetClass{Hosting: true}, TierNormal, TierElevated},
		{"vpn", NetClass{VPN: true}, TierNormal, TierElevated},
		{"residential proxy", NetClass{ResidentialProxy: true}, TierNormal, TierElevated},
		{"hosting, very high rate", NetClass{Hosting: true}, TierHigh, TierHigh},
		{"tor", NetClass{Tor: true}, TierNormal, TierHigh},
		{"public proxy", NetClass{PublicProxy: true}, TierElevated, TierHigh},
		{"tor and hosting", NetClass{Tor: true, Hosting: true}, TierNormal, TierHigh},
		{"a declared bot stays declared", NetClass{Tor: true}, TierDeclaredBot, TierDeclaredBot},
	} {
		if got := TierFor(tc.net, tc.pressure); got != tc.want {
			t.Errorf("%s: TierFor = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct{ a, b, want Tier }{
		{TierNormal, TierNormal, TierNormal}, {TierNormal, TierElevated, TierElevated},
		{TierHigh, TierElevated, TierHigh}, {TierElevated, TierHigh, TierHigh},
	} {
		if got := MaxTier(tc.a, tc.b); got != tc.want {
			t.Errorf("MaxTier(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// BenchmarkVelocityIssue is one challenge of a tracked prefix, the common
// path: ≈ 1,000 networks active.
func BenchmarkVelocityIssue(b *testing.B) {
	clk := newTestClock(tokenT0())
	v := newTestVelocity(b, clk, nil)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		v.Issue(testPrefix(i % 1024))
		i++
	}
}

// BenchmarkVelocityPressure is the event path's look-up.
func BenchmarkVelocityPressure(b *testing.B) {
	clk := newTestClock(tokenT0())
	v := newTestVelocity(b, clk, nil)
	for i := range uint32(1024) {
		v.Issue(testPrefix(i))
	}
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		v.Pressure(testPrefix(i % 1024))
		i++
	}
}
