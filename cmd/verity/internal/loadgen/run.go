package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
)

// EventCounter counts a site's stored events (storage.Store).
type EventCounter interface {
	CountEvents(ctx context.Context, siteID uuid.UUID) (rows, distinct uint64, err error)
}

// Options are what a run does besides loading the collector.
type Options struct {
	// Baseline also measures the no-op handler first, with the same
	// concurrency and duration (and rate, unless RateShare is set).
	Baseline bool
	// RateShare, with Baseline, sets the collector's rate to this share of
	// the baseline's requests/s (the baseline then runs closed loop).
	RateShare float64
	// Counter and SiteID check that every accepted event was stored.
	Counter EventCounter
	SiteID  uuid.UUID
	// FlushWait bounds the wait for the batch writer's last flush.
	// Default 30s.
	FlushWait time.Duration
	Progress  Progress
}

// Result is a whole run.
type Result struct {
	Collector Phase  `json:"collector"`
	Baseline  *Phase `json:"baseline,omitempty"`
	// Ratio is the collector's requests/s over the baseline's.
	Ratio     float64    `json:"ratio_to_baseline,omitempty"`
	Persisted *Persisted `json:"persisted,omitempty"`
}

// Persisted compares the events stored during the run with those accepted.
type Persisted struct {
	Accepted int64         `json:"accepted"`
	Rows     int64         `json:"rows"`
	Distinct int64         `json:"distinct"`
	Waited   time.Duration `json:"waited_ns"`
	Match    bool          `json:"match"`
}

// ErrMismatch is returned (with the result) when stored ≠ accepted.
var ErrMismatch = errors.New("loadgen: events persisted differ from events accepted")

// Run measures the baseline (if asked), then the collector, then checks
// persistence.
func Run(ctx context.Context, cfg Config, opt Options) (Result, error) {
	var res Result
	if err := cfg.validate(); err != nil {
		return res, err
	}
	if opt.RateShare > 0 && !opt.Baseline {
		return res, errors.New("loadgen: a rate given as a share of the baseline needs --baseline")
	}
	if opt.Baseline {
		url, stop, err := noop()
		if err != nil {
			return res, fmt.Errorf("loadgen: baseline: %w", err)
		}
		bc := cfg
		bc.URL = url
		if opt.RateShare > 0 {
			bc.Rate = 0
		}
		b := newGen(bc).run(ctx, "no-op baseline", opt.Progress, baselineStep)
		stop()
		res.Baseline = &b
		if opt.RateShare > 0 {
			cfg.Rate = opt.RateShare * b.RequestsPS
		}
	}
	var before [2]uint64
	if opt.Counter != nil {
		r, d, err := opt.Counter.CountEvents(ctx, opt.SiteID)
		if err != nil {
			return res, err
		}
		before = [2]uint64{r, d}
	}
	res.Collector = newGen(cfg).run(ctx, "collector", opt.Progress, collectorStep)
	if res.Baseline != nil && res.Baseline.RequestsPS > 0 {
		res.Ratio = res.Collector.RequestsPS / res.Baseline.RequestsPS
	}
	if opt.Counter == nil {
		return res, nil
	}
	p, err := waitPersisted(ctx, opt, before, res.Collector.Events)
	res.Persisted = &p
	if err == nil && !p.Match {
		err = ErrMismatch
	}
	return res, err
}

// waitPersisted polls the site's event count until the run's accepted
// events are all stored (the writer flushes every second or 10k rows) or
// FlushWait passes.
func waitPersisted(ctx context.Context, opt Options, before [2]uint64, accepted int64) (Persisted, error) {
	wait := opt.FlushWait
	if wait == 0 {
		wait = 30 * time.Second
	}
	start := time.Now()
	p := Persisted{Accepted: accepted}
	for {
		r, d, err := opt.Counter.CountEvents(ctx, opt.SiteID)
		if err != nil {
			return p, err
		}
		p.Rows, p.Distinct, p.Waited = int64(r-before[0]), int64(d-before[1]), time.Since(start)
		p.Match = p.Rows == accepted && p.Distinct == accepted
		if p.Match || p.Rows > accepted || time.Since(start) > wait {
			return p, nil
		}
		if !sleepCtx(ctx, 250*time.Millisecond) {
			return p, ctx.Err()
		}
	}
}

// Write prints the result as text.
func (r Result) Write(w io.Writer) {
	if r.Baseline != nil {
		r.Baseline.write(w)
	}
	r.Collector.write(w)
	if r.Baseline != nil {
		fmt.Fprintf(w, "collector / no-op baseline: %.1f%% of its requests/s\n", 100*r.Ratio)
	}
	if p := r.Persisted; p != nil {
		verdict := "OK"
		if !p.Match {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(w, "persisted: %d rows (%d distinct events) for %d accepted, after %s: %s\n", p.Rows, p.Distinct, p.Accepted, p.Waited.Round(time.Millisecond), verdict)
	}
}
