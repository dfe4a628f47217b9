package abuse

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testPLID is a page-load id whose first bytes (and so its shard) are n.
func testPLID(n uint32) [16]byte {
	var p [16]byte
	binary.LittleEndian.PutUint32(p[:], n)
	p[15] = 0x9e
	return p
}

type replayStep struct {
	seq  uint32
	want error
}

func TestReplayWindow(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	for _, tc := range []struct {
		name  string
		steps []replayStep
	}{
		{"in order, then again", []replayStep{{0, nil}, {1, nil}, {2, nil}, {3, nil}, {3, ErrReplay}, {2, ErrReplay}, {0, ErrReplay}, {4, nil}}},
		{"starts above 0", []replayStep{{7, nil}, {7, ErrReplay}, {0, nil}, {0, ErrReplay}, {8, nil}}},
		{"out of order within the window", []replayStep{{10, nil}, {5, nil}, {9, nil}, {5, ErrReplay}, {10, ErrReplay}, {11, nil}, {6, nil}, {9, ErrReplay}, {4, nil}}},
		{"64 behind is told, 65 is too old", []replayStep{{100, nil}, {36, nil}, {36, ErrReplay}, {35, ErrReplay}, {99, nil}, {37, nil}}},
		{"a jump of 64 keeps the old high", []replayStep{{0, nil}, {64, nil}, {0, ErrReplay}, {1, nil}, {1, ErrReplay}, {63, nil}}},
		{"a jump of 65 drops the old high", []replayStep{{0, nil}, {65, nil}, {0, ErrReplay}, {1, nil}, {1, ErrReplay}, {65, ErrReplay}}},
		{"a far jump clears the window", []replayStep{{0, nil}, {1, nil}, {2, nil}, {500, nil}, {2, ErrReplay}, {436, nil}, {435, ErrReplay}, {499, nil}, {500, ErrReplay}}},
		{"window bits follow the slide", []replayStep{{0, nil}, {2, nil}, {5, nil}, {1, nil}, {3, nil}, {4, nil}, {0, ErrReplay}, {1, ErrReplay}, {2, ErrReplay}, {3, ErrReplay}, {4, ErrReplay}, {5, ErrReplay}, {6, nil}}},
		{"sequence cap", []replayStep{{1000, nil}, {1001, ErrSeqLimit}, {math.MaxUint32, ErrSeqLimit}, {999, nil}, {1000, ErrReplay}, {936, nil}, {935, ErrReplay}}},
		{"a refused number is not recorded", []replayStep{{1001, ErrSeqLimit}, {1000, nil}, {1001, ErrSeqLimit}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewReplayGuard(ReplayConfig{}, newTestClock(t0).Now)
			plid := testPLID(1)
			for j, s := range tc.steps {
				if err := g.Check(plid, s.seq, t0.Add(time.Minute)); err != s.want {
					t.Errorf("step %d: Check(seq %d) = %v, want %v", j, s.seq, err, s.want)
				}
			}
			// The page load is tracked once (or not at all if every number
			// was refused); other page loads are not affected.
			wantLen := 0
			for _, s := range tc.steps {
				if s.want == nil {
					wantLen = 1
				}
			}
			if g.Len() != wantLen {
				t.Errorf("Len = %d, want %d", g.Len(), wantLen)
			}
			if err := g.Check(testPLID(2), tc.steps[0].seq%1001, t0.Add(time.Minute)); err != nil {
				t.Errorf("another page load: %v", err)
			}
		})
	}
}

// replayModel is the guard's specification, written as plainly as possible:
// a set of the numbers seen per page load.
type replayModel struct {
	seen map[[16]byte]map[uint32]bool
	high map[[16]byte]uint32
}

func (m *replayModel) check(plid [16]byte, seq, maxSeq uint32) error {
	if seq > maxSeq {
		return ErrSeqLimit
	}
	s, ok := m.seen[plid]
	if !ok {
		s = map[uint32]bool{}
		m.seen[plid] = s
		m.high[plid] = seq
	}
	high := m.high[plid]
	if s[seq] || seq < high && high-seq > ReplayWindow {
		return ErrReplay
	}
	s[seq] = true
	m.high[plid] = max(high, seq)
	return nil
}

// TestReplayMatchesModel sends random, mostly out-of-order and repeated
// sequence numbers and compares every answer with the model.
func TestReplayMatchesModel(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	rng := rand.New(rand.NewPCG(1, 2))
	g := NewReplayGuard(ReplayConfig{}, newTestClock(t0).Now)
	m := &replayModel{seen: map[[16]byte]map[uint32]bool{}, high: map[[16]byte]uint32{}}
	counts := map[error]int{}
	for j := range 200_000 {
		plid := testPLID(uint32(rng.IntN(500)))
		var seq uint32
		high := int(m.high[plid])
		switch r := rng.IntN(100); {
		case r < 2: // anywhere, rarely: it jumps ahead
			seq = uint32(rng.IntN(1020))
		case r < 75: // near the highest: in order, repeated, out of order
			seq = uint32(max(0, high+rng.IntN(12)-8))
		default: // around the edge of the window
			seq = uint32(max(0, high-ReplayWindow-3+rng.IntN(6)))
		}
		want := m.check(plid, seq, 1000)
		if got := g.Check(plid, seq, t0.Add(time.Hour)); got != want {
			t.Fatalf("step %d: Check(%x, %d) = %v, model says %v", j, plid[:4], seq, got, want)
		}
		counts[want]++
	}
	t.Logf("%v", counts)
	if counts[nil] < 10_000 || counts[ErrReplay] < 10_000 || counts[ErrSeqLimit] < 1_000 {
		t.Errorf("the random walk missed a case: %v", counts)
	}
}

// TestReplayExactCounts: however often each event of a page load is sent,
// and in whatever order within the window, each is accepted exactly once.
func TestReplayExactCounts(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	rng := rand.New(rand.NewPCG(3, 4))
	g := NewReplayGuard(ReplayConfig{}, newTestClock(t0).Now)
	const events = 1000
	for _, plid := range [][16]byte{testPLID(1), testPLID(2), testPLID(3)} {
		// Each event is sent 1–6 times; sends are shuffled within blocks of
		// 32 sequence numbers (a retrying client, beacons out of order).
		var sends []uint32
		for block := uint32(0); block < events+1; block += 32 {
			var b []uint32
			for seq := block; seq < min(block+32, events+1); seq++ {
				for range 1 + rng.IntN(6) {
					b = append(b, seq)
				}
			}
			rng.Shuffle(len(b), func(x, y int) { b[x], b[y] = b[y], b[x] })
			sends = append(sends, b...)
		}
		accepted := map[uint32]int{}
		for _, seq := range sends {
			switch err := g.Check(plid, seq, t0.Add(time.Minute)); err {
			case nil:
				accepted[seq]++
			case ErrReplay:
			default:
				t.Fatalf("Check(%d): %v", seq, err)
			}
		}
		for seq := range uint32(events + 1) {
			if accepted[seq] != 1 {
				t.Errorf("seq %d accepted %d times out of %d sends", seq, accepted[seq], len(sends))
			}
		}
	}
}

func TestReplayExpiry(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clock := newTestClock(t0)
	g := NewReplayGuard(ReplayConfig{}, clock.Now)
	a, b := testPLID(1), testPLID(2)
	expA, expB := t0.Add(10*time.Second), t0.Add(10*time.Second+500*time.Millisecond)

	steps := []struct {
		at       time.Duration
		plid     [16]byte
		seq      uint32
		exp      time.Time
		want     error
		wantLen  int
		sweep    bool
		wantSwep int
	}{
		{at: 0, plid: a, seq: 0, exp: expA, wantLen: 1},
		{at: 0, plid: b, seq: 0, exp: expB, wantLen: 2},
		{at: 9 * time.Second, sweep: true, wantSwep: 0, wantLen: 2},                                     // nothing expired yet
		{at: 10*time.Second - time.Nanosecond, plid: a, seq: 0, exp: expA, want: ErrReplay, wantLen: 2}, // still remembered
		{at: 10 * time.Second, plid: a, seq: 1, exp: expA, want: ErrTokenExpired, wantLen: 2},           // the token has expired
		{at: 10*time.Second + 900*time.Millisecond, plid: b, seq: 0, exp: expB, want: ErrReplay, wantLen: 2},
		{at: 10*time.Second + 900*time.Millisecond, sweep: true, wantSwep: 1, wantLen: 1}, // a goes, b lives to 11 s (rounded up)
		{at: 11 * time.Second, plid: b, seq: 1, exp: expB, want: ErrTokenExpired, wantLen: 1},
		{at: 11 * time.Second, sweep: true, wantSwep: 1, wantLen: 0},
		{at: 11 * time.Second, plid: a, seq: 0, exp: expA, want: ErrTokenExpired, wantLen: 0}, // an expired token is never re-admitted
	}
	for j, s := range steps {
		clock.Set(t0.Add(s.at))
		if s.sweep {
			if n := g.Sweep(); n != s.wantSwep {
				t.Errorf("step %d: Sweep = %d, want %d", j, n, s.wantSwep)
			}
		} else if err := g.Check(s.plid, s.seq, s.exp); err != s.want {
			t.Errorf("step %d: Check(%x, %d) = %v, want %v", j, s.plid[:1], s.seq, err, s.want)
		}
		if n := g.Len(); n != s.wantLen {
			t.Errorf("step %d: Len = %d, want %d", j, n, s.wantLen)
		}
	}
}

// TestReplayFarExpiry: an expiry past 2106 (the entry's 32-bit seconds)
// is kept as 2106, not wrapped to the past.
func TestReplayFarExpiry(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	g := NewReplayGuard(ReplayConfig{}, newTestClock(t0).Now)
	far := time.Date(2140, 1, 1, 0, 0, 0, 0, time.UTC) // 2^32 s later: 2003
	if err := g.Check(testPLID(1), 0, far); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if n := g.Sweep(); n != 0 {
		t.Errorf("Sweep dropped %d live page loads", n)
	}
	if err := g.Check(testPLID(1), 0, far); err != ErrReplay {
		t.Errorf("Check again = %v, want %v", err, ErrReplay)
	}
}

// TestReplayCapacity: a full guard evicts expired page loads first, then
// refuses new ones, and never forgets a live one.
func TestReplayCapacity(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clock := newTestClock(t0)
	g := NewReplayGuard(ReplayConfig{MaxPageLoads: 3, Shards: 1}, clock.Now)
	a, b, c, d, e, f := testPLID(1), testPLID(2), testPLID(3), testPLID(4), testPLID(5), testPLID(6)
	exp := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	for j, s := range []struct {
		at   int // seconds after t0
		plid [16]byte
		seq  uint32
		exp  int
		want error
		len  int
	}{
		{0, a, 0, 10, nil, 1},
		{0, b, 0, 20, nil, 2},
		{0, c, 0, 30, nil, 3},
		{0, d, 0, 40, ErrReplayFull, 3}, // full, nothing expired: refused
		{0, a, 1, 10, nil, 3},           // live page loads carry on
		{0, a, 0, 10, ErrReplay, 3},     // and are not forgotten
		{9, d, 0, 40, ErrReplayFull, 3},
		{10, d, 0, 40, nil, 3}, // a has expired: it makes room
		{10, a, 2, 10, ErrTokenExpired, 3},
		{10, e, 0, 50, ErrReplayFull, 3},
		{10, b, 0, 20, ErrReplay, 3},
		{10, d, 0, 40, ErrReplay, 3},
		{25, e, 0, 50, nil, 3}, // b has expired and makes room; c lives until 30
		{25, b, 0, 20, ErrTokenExpired, 3},
		{29, f, 0, 60, ErrReplayFull, 3},
		{30, f, 0, 60, nil, 3}, // c has expired
		{30, d, 0, 40, ErrReplay, 3},
		{30, e, 0, 50, ErrReplay, 3},
	} {
		clock.Set(exp(s.at))
		if err := g.Check(s.plid, s.seq, exp(s.exp)); err != s.want {
			t.Errorf("step %d: Check(%x, %d) = %v, want %v", j, s.plid[:1], s.seq, err, s.want)
		}
		if n := g.Len(); n != s.len {
			t.Errorf("step %d: Len = %d, want %d", j, n, s.len)
		}
	}

	// Shards fill separately: 4 shards of 2.
	g = NewReplayGuard(ReplayConfig{MaxPageLoads: 8, Shards: 4}, clock.Now)
	for j, s := range []struct {
		n    uint32 // shard n % 4
		want error
	}{{0, nil}, {4, nil}, {8, ErrReplayFull}, {1, nil}, {5, nil}, {9, ErrReplayFull}, {2, nil}, {3, nil}} {
		if err := g.Check(testPLID(s.n), 0, exp(100)); err != s.want {
			t.Errorf("sharded step %d: Check(plid %d) = %v, want %v", j, s.n, err, s.want)
		}
	}
}

// TestReplayConcurrent: goroutines racing to send the same events; each
// (page load, sequence number) is accepted exactly once overall.
func TestReplayConcurrent(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	g := NewReplayGuard(ReplayConfig{Shards: 4}, newTestClock(t0).Now)
	const pageLoads, events, senders = 40, 100, 6
	var accepted [pageLoads][events]atomic.Int32
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			// In order within a page load (so nothing falls out of the
			// window); page loads in a different order per sender.
			for p := range pageLoads {
				pl := (p + w*7) % pageLoads
				for seq := range events {
					err := g.Check(testPLID(uint32(pl)), uint32(seq), t0.Add(time.Minute))
					switch err {
					case nil:
						accepted[pl][seq].Add(1)
					case ErrReplay:
					default:
						t.Errorf("Check: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for p := range pageLoads {
		for seq := range events {
			if n := accepted[p][seq].Load(); n != 1 {
				t.Errorf("page load %d seq %d accepted %d times", p, seq, n)
			}
		}
	}
}

func TestReplayConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  ReplayConfig
		want string // "" means valid
	}{
		{ReplayConfig{}, ""},
		{ReplayConfig{MaxPageLoads: 1, Shards: 1, MaxSeq: 1}, ""},
		{ReplayConfig{MaxPageLoads: 10}, "replay max page loads 10 is fewer than its 64 shards"},
		{ReplayConfig{MaxPageLoads: -1}, "replay max page loads -1: need at least 1"},
		{ReplayConfig{Shards: -2}, "replay shards -2: need at least 1"},
		{ReplayConfig{Shards: -2, MaxPageLoads: -1}, "shards -2: need at least 1\nabuse: replay max page loads -1"},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
		func() {
			defer func() {
				if r := recover(); (r != nil) != (tc.want != "") {
					t.Errorf("NewReplayGuard(%+v) panic = %v, want a panic: %v", tc.cfg, r, tc.want != "")
				}
			}()
			NewReplayGuard(tc.cfg, nil)
		}()
	}
	g := NewReplayGuard(ReplayConfig{}, nil)
	if g.maxSeq != 1000 || g.perShard != 1_000_000/64 || len(g.shards) != 64 {
		t.Errorf("defaults: max seq %d, %d per shard, %d shards", g.maxSeq, g.perShard, len(g.shards))
	}
	if !errors.Is(g.Check(testPLID(1), 0, time.Now().Add(-time.Second)), ErrTokenExpired) {
		t.Errorf("a nil clock is not time.Now")
	}
}

func TestReplayCheckDoesNotAllocate(t *testing.T) {
	t0 := tokenT0()
	g := NewReplayGuard(ReplayConfig{MaxSeq: math.MaxUint32}, newTestClock(t0).Now)
	plid := testPLID(1)
	seq := uint32(0)
	if n := testing.AllocsPerRun(1000, func() {
		if err := g.Check(plid, seq, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		seq++
	}); n != 0 {
		t.Errorf("Check of a tracked page load: %v allocations, want 0", n)
	}
}

// benchReplayLive is how many page loads the replay benchmarks keep live
// (per goroutine): each sends its events in order, all interleaved, so
// that the maps are large and their entries mostly out of the CPU cache.
const benchReplayLive = 100_000

// BenchmarkReplayCheck is one check of a live page load's next event.
func BenchmarkReplayCheck(b *testing.B) {
	t0 := tokenT0()
	g := NewReplayGuard(ReplayConfig{MaxSeq: math.MaxUint32}, newTestClock(t0).Now)
	exp := t0.Add(time.Hour)
	b.ReportAllocs()
	j := 0
	for b.Loop() {
		if err := g.Check(testPLID(uint32(j%benchReplayLive)), uint32(j/benchReplayLive), exp); err != nil {
			b.Fatal(err)
		}
		j++
	}
}

// BenchmarkReplayCheckParallel is the same on every core: shards contend.
func BenchmarkReplayCheckParallel(b *testing.B) {
	t0 := tokenT0()
	g := NewReplayGuard(ReplayConfig{MaxSeq: math.MaxUint32}, newTestClock(t0).Now)
	exp := t0.Add(time.Hour)
	var next atomic.Uint32
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		first := next.Add(1) * benchReplayLive
		j := 0
		for pb.Next() {
			if err := g.Check(testPLID(first+uint32(j%benchReplayLive)), uint32(j/benchReplayLive), exp); err != nil {
				b.Error(err)
				return
			}
			j++
		}
	})
}
