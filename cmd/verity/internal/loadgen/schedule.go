package loadgen

import (
	"context"
	"sync/atomic"
	"time"
)

// schedule hands out send times. Open loop (rate > 0): slot i is due at
// start + i/rate whatever became of the earlier ones, and a request's
// latency is measured from its slot's time, so a slow answer that holds up
// the requests behind it shows in their latencies too (no coordinated
// omission, as in wrk2). Closed loop (rate 0): a slot is due when a worker
// asks for it.
type schedule struct {
	start, end time.Time
	rate       float64 // slots per second; 0: closed loop
	// grace is how long past end a worker behind schedule still sends
	// past-due slots; the rest are counted as missed.
	grace time.Duration
	next  atomic.Int64
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) bool
}

func newSchedule(start time.Time, d time.Duration, rate float64, now func() time.Time) *schedule {
	return &schedule{start: start, end: start.Add(d), rate: rate, grace: 2 * time.Second, now: now, sleep: sleepCtx}
}

// slot claims the next slot and waits until it is due; ok is false when
// the run is over (or ctx ended).
func (s *schedule) slot(ctx context.Context) (due time.Time, ok bool) {
	if s.rate == 0 {
		now := s.now()
		return now, now.Before(s.end) && ctx.Err() == nil
	}
	due = s.due(s.next.Add(1) - 1)
	if !due.Before(s.end) || s.now().After(s.end.Add(s.grace)) {
		return due, false
	}
	if wait := due.Sub(s.now()); wait > 0 && !s.sleep(ctx, wait) {
		return due, false
	}
	return due, ctx.Err() == nil
}

// due is slot i's time: start + i/rate, computed from i each time so that
// rounding does not accumulate.
func (s *schedule) due(i int64) time.Time {
	return s.start.Add(time.Duration(float64(i) * float64(time.Second) / s.rate))
}

// planned is how many slots the run has in all (open loop only).
func (s *schedule) planned() int64 {
	if s.rate == 0 {
		return 0
	}
	return int64(s.end.Sub(s.start).Seconds() * s.rate)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
