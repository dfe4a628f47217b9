package loadgen

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// fakeClock is a schedule's clock that moves only when it sleeps.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(_ context.Context, d time.Duration) bool {
	c.t = c.t.Add(d)
	return true
}

func TestScheduleOpenLoopFixedIntervals(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newSchedule(clock.t, time.Second, 4, clock.now)
	s.sleep = clock.sleep
	var dues []time.Duration
	for {
		due, ok := s.slot(context.Background())
		if !ok {
			break
		}
		dues = append(dues, due.Sub(time.Unix(1000, 0)))
	}
	want := []time.Duration{0, 250 * time.Millisecond, 500 * time.Millisecond, 750 * time.Millisecond}
	if len(dues) != len(want) || s.planned() != 4 {
		t.Fatalf("slots %v (planned %d), want %v", dues, s.planned(), want)
	}
	for i := range want {
		if dues[i] != want[i] {
			t.Errorf("slot %d due at %v, want %v", i, dues[i], want[i])
		}
	}
}

// A worker behind schedule gets past-due slots at once, with their own due
// times (latency counts from them), until the grace after the end.
func TestScheduleBehindKeepsDueTimes(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	start := clock.t
	s := newSchedule(start, time.Second, 10, clock.now)
	s.sleep = func(context.Context, time.Duration) bool { t.Fatal("slept while behind"); return false }
	clock.t = start.Add(600 * time.Millisecond) // the target stalled
	due, ok := s.slot(context.Background())
	if !ok || due != start {
		t.Fatalf("first slot due %v ok %v, want the start", due.Sub(start), ok)
	}
	clock.t = start.Add(3500 * time.Millisecond) // past end + grace (2 s)
	if _, ok := s.slot(context.Background()); ok {
		t.Error("a slot after the grace period")
	}
}

func TestScheduleClosedLoop(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newSchedule(clock.t, time.Second, 0, clock.now)
	clock.t = clock.t.Add(300 * time.Millisecond)
	if due, ok := s.slot(context.Background()); !ok || due != clock.t {
		t.Errorf("closed loop: due %v ok %v, want now", due, ok)
	}
	clock.t = clock.t.Add(time.Second)
	if _, ok := s.slot(context.Background()); ok {
		t.Error("a slot after the end")
	}
	if s.planned() != 0 {
		t.Errorf("planned %d in closed loop", s.planned())
	}
}

func TestParseMix(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Mix
		err  string
	}{
		{"", Mix{}, ""},
		{"bot=0.1,replay=2%,forge=0.01", Mix{Bot: 0.1, Replay: 0.02, Forge: 0.01}, ""},
		{" bot = 50% ", Mix{Bot: 0.5}, ""},
		{"bot=50%", Mix{Bot: 0.5}, ""},
		{"bot=0.7,forge=0.4", Mix{}, "more than 1"},
		{"spam=0.1", Mix{}, "unknown kind"},
		{"bot", Mix{}, "want name=share"},
		{"bot=1.5", Mix{}, "between 0 and 1"},
	} {
		got, err := ParseMix(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseMix(%q) error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseMix(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestMixPickShares(t *testing.T) {
	m := Mix{Bot: 0.2, Replay: 0.1, Forge: 0.05}
	rng := rand.New(rand.NewPCG(1, 2))
	n := map[string]int{}
	const draws = 20_000
	for range draws {
		n[m.pick(rng)]++
	}
	for kind, share := range map[string]float64{kindBot: 0.2, kindReplay: 0.1, kindForge: 0.05, kindHuman: 0.65} {
		if got := float64(n[kind]) / draws; got < share-0.02 || got > share+0.02 {
			t.Errorf("%s: share %.3f, want %.2f", kind, got, share)
		}
	}
}

func TestRecorderPhase(t *testing.T) {
	r := newRecorder()
	for i := 1; i <= 100; i++ {
		r.observe("event", time.Duration(i)*time.Millisecond, 3, "")
	}
	r.observe("challenge", 500*time.Millisecond, 0, "rate_limited")
	r.expect(ReasonReplay)
	p := r.phase("collector", 2*time.Second, 0)
	if p.Requests != 101 || p.Events != 300 || p.RequestsPS != 50.5 || p.EventsPS != 150 {
		t.Errorf("counts %+v", p)
	}
	ev := p.Latency["event"]
	// HdrHistogram, three significant digits: within 0.1 %.
	near := func(got, want float64) bool { return got >= want*0.999 && got <= want*1.001 }
	if ev.Count != 100 || !near(ev.P50, 50) || !near(ev.P90, 90) || !near(ev.P99, 99) || !near(ev.Max, 100) {
		t.Errorf("event latency %+v", ev)
	}
	if all := p.Latency["all"]; all.Count != 101 || !near(all.Max, 500) {
		t.Errorf("all latency %+v", all)
	}
	u := p.Unexpected()
	if len(u) != 2 || u["rate_limited"] != 1 || u[ReasonReplay] != -1 {
		t.Errorf("unexpected %v (rejected %v, expected %v)", u, p.Rejected, p.Expected)
	}
	var b strings.Builder
	Result{Collector: p}.Write(&b)
	for _, want := range []string{"101 requests in 2.0s = 50 requests/s", "events accepted: 300 = 150 events/s", "rejected: rate_limited 1", "UNEXPECTED", "latency event     p50  50.0"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

func TestForgeChangesTheSignature(t *testing.T) {
	tok := "abcdefghijklmnopqrstuvwxyzABCDEFGH"
	f := forge(tok)
	if f == tok || len(f) != len(tok) || f[:len(tok)-8] != tok[:len(tok)-8] {
		t.Errorf("forge(%q) = %q", tok, f)
	}
}
