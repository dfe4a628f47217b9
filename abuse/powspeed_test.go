package abuse

import (
	"math"
	"testing"
	"time"
)

func TestPoWTooFast(t *testing.T) {
	t.Parallel()
	c := DefaultBehaviourConfig().PowSpeed // 1M hashes/s, at least 10,000 hashes
	for _, tc := range []struct {
		name    string
		n       uint32
		solveMS int64
		want    bool
	}{
		{"normal tier, any time: too small to judge", 1_999, 0, false},
		{"just under the floor", 9_998, 0, false},
		{"at the floor, reported 0 ms", 9_999, 0, true},
		// 10,000 hashes in (8 + 1) ms is 1.1M/s; in (9 + 1) ms exactly 1M/s.
		{"10,000 hashes in 8 ms", 9_999, 8, true},
		{"10,000 hashes in 9 ms", 9_999, 9, false},
		{"elevated tier max in 19 ms", 20_000, 19, true},  // 20,001 in 20 ms
		{"elevated tier max in 20 ms", 20_000, 20, false}, // 20,001 in 21 ms
		{"native Go: 100,000 in 19 ms", 99_999, 19, true},
		{"a browser: 100,000 in 1 s", 99_999, 1000, false},
		{"negative time counts as 0", 50_000, -5, true},
		{"huge time", 50_000, math.MaxInt64, false},
		{"largest n, no time", math.MaxUint32, 0, true},
		{"largest n in an hour", math.MaxUint32, 3_600_000, true},
		{"largest n in 4,295 s", math.MaxUint32, 4_295_000, false},
	} {
		if got := c.PoWTooFast(tc.n, tc.solveMS); got != tc.want {
			t.Errorf("%s: PoWTooFast(%d, %d) = %v, want %v", tc.name, tc.n, tc.solveMS, got, tc.want)
		}
	}
}

// TestPoWTooFastNeverFlagsABrowser: at the fastest rate we expect of a
// browser (400k hashes/s, four times the measured Chromium figure), with
// the snippet's rounding, no n is too fast; native code reporting its true
// time is, from the floor up.
func TestPoWTooFastNeverFlagsABrowser(t *testing.T) {
	t.Parallel()
	c := DefaultBehaviourConfig().PowSpeed
	for n := uint32(0); n < 400_000; n += 7 {
		hashes := float64(n) + 1
		if ms := int64(math.Round(hashes / 400_000 * 1000)); c.PoWTooFast(n, ms) {
			t.Fatalf("browser at 400k/s: n %d in %d ms flagged", n, ms)
		}
		native := int64(math.Round(hashes / 5_400_000 * 1000))
		if want := hashes >= 10_000; c.PoWTooFast(n, native) != want {
			t.Fatalf("native at 5.4M/s: n %d in %d ms: %v, want %v", n, native, !want, want)
		}
	}
}

func TestEventsTooSoon(t *testing.T) {
	t.Parallel()
	c := DefaultBehaviourConfig().PowSpeed
	for _, tc := range []struct {
		name  string
		n     uint32
		since time.Duration
		want  bool
	}{
		{"normal tier: not judged", 1_999, 0, false},
		{"at the floor, at once", 9_999, 0, true},
		{"10,000 hashes take 10 ms at 1M/s", 9_999, 10*time.Millisecond - time.Nanosecond, true},
		{"10 ms is possible", 9_999, 10 * time.Millisecond, false},
		{"high tier, 200,001 hashes in 150 ms", 200_000, 150 * time.Millisecond, true},
		{"high tier in 2 s", 200_000, 2 * time.Second, false},
		{"another node's clock ahead", 200_000, -time.Millisecond, false},
		{"largest n, an hour", math.MaxUint32, time.Hour, true},
		{"largest n, 4,295 s", math.MaxUint32, 4295 * time.Second, false},
	} {
		if got := c.EventsTooSoon(tc.n, tc.since); got != tc.want {
			t.Errorf("%s: EventsTooSoon(%d, %v) = %v, want %v", tc.name, tc.n, tc.since, got, tc.want)
		}
	}
}
