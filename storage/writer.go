package storage

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage/spool"
)

// ErrBusy is returned by Enqueue when the queue is full; the collector
// answers 503 with Retry-After rather than grow without bound.
var ErrBusy = errors.New("storage: writer queue full")

// ErrClosed is returned by Enqueue after Close.
var ErrClosed = errors.New("storage: writer closed")

// WriterConfig tunes the batch writer.
type WriterConfig struct {
	// QueueSize caps the events held in memory (queued or being written).
	// Default 200000.
	QueueSize int `yaml:"queue_size"`
	// BatchSize is the most events in one insert. Default 10000.
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is the longest an event waits before it is written.
	// Default 1s.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// InsertTimeout bounds one insert; a batch that times out is spooled.
	// Default 10s.
	InsertTimeout time.Duration `yaml:"insert_timeout"`
	// RetryInterval is how often the writer tries ClickHouse again while it
	// is unreachable, replaying the spool when it answers. Default 2s.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// SpoolDir holds batches while ClickHouse is unreachable. Default
	// "data/spool" (relative to the working directory).
	SpoolDir string `yaml:"spool_dir"`
	// SpoolMaxBytes caps the spool; when it is full the queue fills and
	// the collector answers 503. Default 1 GiB.
	SpoolMaxBytes int64 `yaml:"spool_max_bytes"`
}

// DefaultWriterConfig returns the documented defaults.
func DefaultWriterConfig() WriterConfig {
	return WriterConfig{
		QueueSize:     200_000,
		BatchSize:     10_000,
		FlushInterval: time.Second,
		InsertTimeout: 10 * time.Second,
		RetryInterval: 2 * time.Second,
		SpoolDir:      "data/spool",
		SpoolMaxBytes: 1 << 30,
	}
}

// Validate reports every problem at once.
func (c WriterConfig) Validate() error {
	var errs []error
	if c.QueueSize <= 0 {
		errs = append(errs, errors.New("writer.queue_size: must be positive"))
	}
	if c.BatchSize <= 0 || c.BatchSize > c.QueueSize {
		errs = append(errs, errors.New("writer.batch_size: must be positive and at most writer.queue_size"))
	}
	for name, d := range map[string]time.Duration{"flush_interval": c.FlushInterval, "insert_timeout": c.InsertTimeout, "retry_interval": c.RetryInterval} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("writer.%s: must be positive", name))
		}
	}
	if c.SpoolDir == "" {
		errs = append(errs, errors.New("writer.spool_dir: required"))
	}
	if c.SpoolMaxBytes <= 0 {
		errs = append(errs, errors.New("writer.spool_max_bytes: must be positive"))
	}
	return errors.Join(errs...)
}

// EventSink is what the writer needs from ClickHouse; *Store has it.
type EventSink interface {
	InsertEvents(ctx context.Context, events []Event) error
	ExistingEventIDs(ctx context.Context, siteID uuid.UUID, from, to time.Time, ids []uint64) (map[uint64]bool, error)
}

var _ EventSink = (*Store)(nil)

// WriterStats are the writer's counters, for metrics and tests.
type WriterStats struct {
	Queued       int    // events in memory now
	Inserted     uint64 // events written straight to ClickHouse
	Spooled      uint64 // events written to the spool
	Replayed     uint64 // events written from the spool to ClickHouse
	Deduplicated uint64 // spooled events found already stored at replay
	SpoolFiles   int
	SpoolBytes   int64
	Down         bool // the last insert failed
}

// Writer batches events into ClickHouse. Enqueue never blocks: it accepts
// events into a bounded queue or answers ErrBusy. A loop flushes on size or
// interval; a failed insert goes to the on-disk spool, which is replayed in
// order when ClickHouse answers again. Once Enqueue has accepted an event, it
// is written to ClickHouse or to the spool, including at Close.
type Writer struct {
	cfg   WriterConfig
	sink  EventSink
	spool *spool.Spool
	log   *slog.Logger

	mu      sync.Mutex
	queue   []Event
	held    int // queued + being written; bounded by cfg.QueueSize
	closed  bool
	wake    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
	stopCtx context.Context // the Close context, read by the loop after stop

	down                                      atomic.Bool
	inserted, spooled, replayed, deduplicated atomic.Uint64
}

// NewWriter opens the spool and starts the flush loop. Close stops it.
func NewWriter(cfg WriterConfig, sink EventSink, log *slog.Logger) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sp, err := spool.Open(spool.Config{
		Dir:      cfg.SpoolDir,
		MaxBytes: cfg.SpoolMaxBytes,
		OnCorrupt: func(path string, err error) {
			log.Error("spool file corrupt, moved aside", "path", path, "err", err)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("storage: open spool: %w", err)
	}
	w := &Writer{
		cfg:     cfg,
		sink:    sink,
		spool:   sp,
		log:     log,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	if sp.Len() > 0 {
		log.Info("spool holds batches from an earlier run; replaying", "files", sp.Len(), "bytes", sp.Bytes())
	}
	go w.loop()
	return w, nil
}

// Enqueue accepts all of events or none: ErrBusy when the queue cannot hold
// them, ErrClosed after Close. The caller must not modify events afterwards.
func (w *Writer) Enqueue(events ...Event) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	if w.held+len(events) > w.cfg.QueueSize {
		w.mu.Unlock()
		return ErrBusy
	}
	w.queue = append(w.queue, events...)
	w.held += len(events)
	full := len(w.queue) >= w.cfg.BatchSize
	w.mu.Unlock()
	if full {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	held := w.held
	w.mu.Unlock()
	return WriterStats{
		Queued:       held,
		Inserted:     w.inserted.Load(),
		Spooled:      w.spooled.Load(),
		Replayed:     w.replayed.Load(),
		Deduplicated: w.deduplicated.Load(),
		SpoolFiles:   w.spool.Len(),
		SpoolBytes:   w.spool.Bytes(),
		Down:         w.down.Load(),
	}
}

// SpoolNearlyFull reports whether the spool is above 90 % of its cap, for
// /readyz.
func (w *Writer) SpoolNearlyFull() bool {
	return w.spool.Bytes() > w.cfg.SpoolMaxBytes/10*9
}

// Close stops accepting events and writes everything held to ClickHouse, or
// to the spool when ClickHouse does not answer before ctx is done. It
// returns an error only if events could be written to neither.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.stopped
		return nil
	}
	w.closed = true
	w.stopCtx = ctx
	w.mu.Unlock()
	close(w.stop)
	<-w.stopped
	w.mu.Lock()
	lost := w.held
	w.mu.Unlock()
	err := w.spool.Close()
	if lost > 0 {
		return fmt.Errorf("storage: writer closed with %d events neither inserted nor spooled", lost)
	}
	return err
}

func (w *Writer) loop() {
	defer close(w.stopped)
	flushTick := time.NewTicker(w.cfg.FlushInterval)
	defer flushTick.Stop()
	retryTick := time.NewTicker(w.cfg.RetryInterval)
	defer retryTick.Stop()
	var pending []Event // a batch that could be neither inserted nor spooled
	for {
		select {
		case <-w.wake:
			pending = w.flush(context.Background(), pending, false)
		case <-flushTick.C:
			pending = w.flush(context.Background(), pending, true)
		case <-retryTick.C:
			if w.spool.Len() > 0 {
				w.replay(context.Background())
			}
		case <-w.stop:
			w.drain(pending)
			return
		}
	}
}

// flush writes full batches (all queued events when all is set) and returns
// the batch it could not place anywhere, to be tried again.
func (w *Writer) flush(ctx context.Context, pending []Event, all bool) []Event {
	if pending != nil {
		if !w.write(ctx, pending) {
			return pending
		}
	}
	for {
		batch := w.take(all)
		if batch == nil {
			return nil
		}
		if !w.write(ctx, batch) {
			return batch
		}
	}
}

// take removes the next batch from the queue: a full one, or with all set
// whatever is there.
func (w *Writer) take(all bool) []Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(w.queue), w.cfg.BatchSize)
	if n == 0 || (!all && n < w.cfg.BatchSize) {
		return nil
	}
	batch := make([]Event, n)
	copy(batch, w.queue)
	rest := copy(w.queue, w.queue[n:])
	clear(w.queue[rest:])
	w.queue = w.queue[:rest]
	return batch
}

// write inserts the batch or spools it, and releases its queue slots when
// either worked. While ClickHouse is down it spools without trying, until
// the retry loop sees it answer again.
func (w *Writer) write(ctx context.Context, batch []Event) bool {
	if !w.down.Load() && w.spool.Len() == 0 {
		if w.insert(ctx, batch) == nil {
			w.inserted.Add(uint64(len(batch)))
			w.release(len(batch))
			return true
		}
	}
	if err := w.spoolBatch(batch); err != nil {
		w.log.Error("batch neither inserted nor spooled; holding it in memory", "events", len(batch), "err", err)
		return false
	}
	w.spooled.Add(uint64(len(batch)))
	w.release(len(batch))
	return true
}

func (w *Writer) insert(ctx context.Context, batch []Event) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.InsertTimeout)
	defer cancel()
	err := w.sink.InsertEvents(ctx, batch)
	if err != nil {
		if !w.down.Swap(true) {
			w.log.Warn("ClickHouse insert failed; spooling until it answers", "events", len(batch), "err", err)
		}
		return err
	}
	return nil
}

func (w *Writer) release(n int) {
	w.mu.Lock()
	w.held -= n
	w.mu.Unlock()
}

func (w *Writer) spoolBatch(batch []Event) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(batch); err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	return w.spool.Append(buf.Bytes())
}

// replay writes spooled batches to ClickHouse, oldest first, until the spool
// is empty or an insert fails. A batch whose earlier insert may have reached
// the server (a timeout after the server committed, a crash before the file
// was removed) is filtered against what is stored, so it is written once.
func (w *Writer) replay(ctx context.Context) {
	for {
		rec, err := w.spool.Next()
		if err != nil {
			return // io.EOF when empty; corrupt files were reported by the spool
		}
		var batch []Event
		if err := gob.NewDecoder(bytes.NewReader(rec.Payload)).Decode(&batch); err != nil {
			w.log.Error("spooled batch undecodable, dropped", "id", rec.ID, "err", err)
			_ = w.spool.Remove(rec.ID)
			continue
		}
		fresh, err := w.unstored(ctx, batch)
		if err == nil {
			err = w.insert(ctx, fresh)
		}
		if err != nil {
			w.down.Store(true)
			w.log.Debug("spool replay failed; will retry", "id", rec.ID, "err", err)
			return
		}
		if w.down.Swap(false) {
			w.log.Info("ClickHouse answers again; replaying the spool", "files", w.spool.Len())
		}
		if err := w.spool.Remove(rec.ID); err != nil {
			w.log.Error("remove replayed spool file", "id", rec.ID, "err", err)
			return
		}
		w.replayed.Add(uint64(len(fresh)))
		w.deduplicated.Add(uint64(len(batch) - len(fresh)))
	}
}

// unstored drops the events of batch that ClickHouse already holds.
func (w *Writer) unstored(ctx context.Context, batch []Event) ([]Event, error) {
	type span struct {
		from, to time.Time
		ids      []uint64
	}
	bySite := map[uuid.UUID]*span{}
	for _, e := range batch {
		sp := bySite[e.SiteID]
		if sp == nil {
			sp = &span{from: e.TS, to: e.TS}
			bySite[e.SiteID] = sp
		}
		sp.from, sp.to = minTime(sp.from, e.TS), maxTime(sp.to, e.TS)
		sp.ids = append(sp.ids, e.EventID)
	}
	stored := map[uuid.UUID]map[uint64]bool{}
	for site, sp := range bySite {
		qctx, cancel := context.WithTimeout(ctx, w.cfg.InsertTimeout)
		found, err := w.sink.ExistingEventIDs(qctx, site, sp.from, sp.to, sp.ids)
		cancel()
		if err != nil {
			return nil, err
		}
		stored[site] = found
	}
	fresh := batch[:0:0]
	for _, e := range batch {
		if !stored[e.SiteID][e.EventID] {
			fresh = append(fresh, e)
		}
	}
	return fresh, nil
}

// drain runs at Close: everything queued is inserted while the Close
// context lasts, and spooled after that.
func (w *Writer) drain(pending []Event) {
	ctx := w.stopCtx
	if ctx == nil {
		ctx = context.Background()
	}
	// Only the inserts are bounded by ctx; spooling needs no ClickHouse and
	// happens even after ctx has expired, so nothing accepted is lost.
	if ctx.Err() == nil && w.spool.Len() > 0 && !w.down.Load() {
		w.replay(ctx)
	}
	for {
		batch := pending
		pending = nil
		if batch == nil {
			batch = w.take(true)
		}
		if batch == nil {
			return
		}
		if ctx.Err() == nil && !w.down.Load() {
			if err := w.insert(ctx, batch); err == nil {
				w.inserted.Add(uint64(len(batch)))
				w.release(len(batch))
				continue
			}
		}
		if err := w.spoolBatch(batch); err != nil {
			w.log.Error("at shutdown, batch neither inserted nor spooled: events lost", "events", len(batch), "err", err)
			continue
		}
		w.spooled.Add(uint64(len(batch)))
		w.release(len(batch))
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
