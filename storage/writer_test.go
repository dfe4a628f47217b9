package storage_test

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// testEvents makes n distinct pageviews for a site, numbered from first.
func testEvents(site uuid.UUID, first, n int) []storage.Event {
	ts := time.Now().UTC().Truncate(time.Second)
	out := make([]storage.Event, n)
	for i := range out {
		h := fnv.New64a()
		fmt.Fprintf(h, "%s/%d", site, first+i)
		out[i] = storage.Event{
			SiteID: site, TS: ts, EventID: h.Sum64(), PageLoadID: uuid.New(), Seq: 1,
			Type: "pageview", Pathname: fmt.Sprintf("/p/%d", (first+i)%7), Hostname: "example.com",
			Verdict: "ok", Ingest: "browser", PropKeys: []string{"k"}, PropValues: []string{"v"},
		}
	}
	return out
}

func quietLog() *slog.Logger {
	if os.Getenv("VERBOSE") != "" {
		return slog.Default()
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func writerConfig(t *testing.T) storage.WriterConfig {
	cfg := storage.DefaultWriterConfig()
	cfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	cfg.FlushInterval = 50 * time.Millisecond
	cfg.RetryInterval = 100 * time.Millisecond
	cfg.InsertTimeout = 3 * time.Second
	cfg.BatchSize = 500
	return cfg
}

// countRows returns count() and the number of distinct event ids of a site.
func countRows(t *testing.T, cfg storage.Config, site uuid.UUID) (rows, distinct uint64) {
	t.Helper()
	st, err := storage.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, distinct, err = st.CountEvents(context.Background(), site)
	if err != nil {
		t.Fatal(err)
	}
	return rows, distinct
}

// waitFor polls cond until it holds or the deadline passes. The servers are
// real processes, so there is no clock to drive instead.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWriterInsertsEverything(t *testing.T) {
	cfg := chtest.Config(t)
	st := chtest.StoreFor(t, cfg)
	w, err := storage.NewWriter(writerConfig(t), st, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	site := uuid.New()
	for i := 0; i < 20; i++ {
		if err := w.Enqueue(testEvents(site, i*123, 123)...); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rows, distinct := countRows(t, cfg, site); rows != 2460 || distinct != 2460 {
		t.Fatalf("stored %d rows (%d distinct), want 2460", rows, distinct)
	}
	s := w.Stats()
	if s.Inserted != 2460 || s.Spooled != 0 || s.Queued != 0 {
		t.Fatalf("stats %+v: want 2460 inserted, none spooled or queued", s)
	}
	if err := w.Enqueue(testEvents(site, 0, 1)...); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Enqueue after Close = %v, want ErrClosed", err)
	}
}

// blockingSink never finishes an insert until released.
type blockingSink struct{ release chan struct{} }

func (b blockingSink) InsertEvents(ctx context.Context, _ []storage.Event) error {
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (blockingSink) ExistingEventIDs(context.Context, uuid.UUID, time.Time, time.Time, []uint64) (map[uint64]bool, error) {
	return nil, nil
}

func TestWriterQueueFullIsBusyAndAllOrNothing(t *testing.T) {
	cfg := writerConfig(t)
	cfg.QueueSize, cfg.BatchSize = 100, 10
	sink := blockingSink{release: make(chan struct{})}
	w, err := storage.NewWriter(cfg, sink, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	site := uuid.New()
	if err := w.Enqueue(testEvents(site, 0, 95)...); err != nil {
		t.Fatal(err)
	}
	if err := w.Enqueue(testEvents(site, 95, 6)...); !errors.Is(err, storage.ErrBusy) {
		t.Fatalf("Enqueue over the cap = %v, want ErrBusy", err)
	}
	if got := w.Stats().Queued; got != 95 {
		t.Fatalf("queued %d after a refused Enqueue, want 95 (all or nothing)", got)
	}
	if err := w.Enqueue(testEvents(site, 95, 5)...); err != nil {
		t.Fatalf("Enqueue up to the cap: %v", err)
	}
	close(sink.release)
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Inserted != 100 || s.Queued != 0 {
		t.Fatalf("stats %+v: want 100 inserted", s)
	}
}

// TestWriterSurvivesClickHouseOutage stops the server, keeps accepting
// events (they go to the spool), restarts it and checks that exactly the
// accepted events are stored, once each.
func TestWriterSurvivesClickHouseOutage(t *testing.T) {
	srv := chtest.NewServer(t)
	cfg := chtest.ConfigFor(t, srv.Addr())
	st := chtest.StoreFor(t, cfg)
	wcfg := writerConfig(t)
	w, err := storage.NewWriter(wcfg, st, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	site := uuid.New()
	accepted := 0
	enqueue := func(n int) {
		if err := w.Enqueue(testEvents(site, accepted, n)...); err != nil {
			t.Fatal(err)
		}
		accepted += n
	}
	enqueue(1000)
	waitFor(t, "first events inserted", 10*time.Second, func() bool { return w.Stats().Inserted == 1000 })

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		enqueue(700)
	}
	waitFor(t, "events spooled while ClickHouse is down", 30*time.Second, func() bool {
		s := w.Stats()
		return s.Spooled == 7000 && s.Queued == 0
	})
	if s := w.Stats(); !s.Down || s.SpoolFiles == 0 {
		t.Fatalf("stats while down %+v: want Down and spool files", s)
	}

	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	enqueue(300)
	waitFor(t, "spool replayed", 60*time.Second, func() bool {
		s := w.Stats()
		return s.SpoolFiles == 0 && s.Queued == 0 && !s.Down
	})
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rows, distinct := countRows(t, cfg, site); rows != uint64(accepted) || distinct != uint64(accepted) {
		t.Fatalf("stored %d rows (%d distinct), accepted %d", rows, distinct, accepted)
	}
}

// TestWriterShutdownMidLoadLosesNothing closes the writer while producers
// are still enqueueing: every accepted event must be stored.
func TestWriterShutdownMidLoadLosesNothing(t *testing.T) {
	cfg := chtest.Config(t)
	st := chtest.StoreFor(t, cfg)
	wcfg := writerConfig(t)
	wcfg.QueueSize = 20_000
	w, err := storage.NewWriter(wcfg, st, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	site := uuid.New()
	var mu sync.Mutex
	accepted := 0
	var wg sync.WaitGroup
	for p := 0; p < 4; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; ; i++ {
				err := w.Enqueue(testEvents(site, p*1_000_000+i*10, 10)...)
				if errors.Is(err, storage.ErrClosed) {
					return
				}
				if err == nil {
					mu.Lock()
					accepted += 10
					mu.Unlock()
				}
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
		}(p)
	}
	waitFor(t, "some events inserted", 10*time.Second, func() bool { return w.Stats().Inserted > 2000 })
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	rows, distinct := countRows(t, cfg, site)
	if rows != uint64(accepted) || distinct != uint64(accepted) {
		t.Fatalf("stored %d rows (%d distinct), accepted %d", rows, distinct, accepted)
	}
}

// TestWriterCorruptSpoolFileSkipped spools batches while ClickHouse is
// down, corrupts one file, and checks that a new writer replays the others.
func TestWriterCorruptSpoolFileSkipped(t *testing.T) {
	srv := chtest.NewServer(t)
	cfg := chtest.ConfigFor(t, srv.Addr())
	st := chtest.StoreFor(t, cfg)
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	wcfg := writerConfig(t)
	wcfg.BatchSize = 100
	w, err := storage.NewWriter(wcfg, st, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	site := uuid.New()
	if err := w.Enqueue(testEvents(site, 0, 300)...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(wcfg.SpoolDir, "*.batch"))
	if len(files) != 3 {
		t.Fatalf("spool holds %d files, want 3 batches of 100", len(files))
	}
	b, err := os.ReadFile(files[1])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(files[1], b, 0o600); err != nil {
		t.Fatal(err)
	}

	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	var logged syncBuffer
	w2, err := storage.NewWriter(wcfg, st, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "spool replayed", 30*time.Second, func() bool { return w2.Stats().SpoolFiles == 0 })
	if err := w2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rows, distinct := countRows(t, cfg, site); rows != 200 || distinct != 200 {
		t.Fatalf("stored %d rows (%d distinct), want the 200 of the two intact batches", rows, distinct)
	}
	if s := logged.String(); !containsAll(s, "spool file corrupt", filepath.Base(files[1])) {
		t.Fatalf("corrupt file not reported; log:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(wcfg.SpoolDir, "corrupt", filepath.Base(files[1]))); err != nil {
		t.Fatalf("corrupt file not kept aside: %v", err)
	}
}

// TestWriterReplayWritesOnce: a batch that reached ClickHouse and was also
// spooled (an insert that timed out after the server committed it) is
// stored once.
func TestWriterReplayWritesOnce(t *testing.T) {
	srv := chtest.NewServer(t)
	cfg := chtest.ConfigFor(t, srv.Addr())
	st := chtest.StoreFor(t, cfg)
	site := uuid.New()
	events := testEvents(site, 0, 250)
	if err := st.InsertEvents(context.Background(), events[:150]); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	wcfg := writerConfig(t)
	w, err := storage.NewWriter(wcfg, st, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Enqueue(events...); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "batch spooled", 20*time.Second, func() bool { return w.Stats().Spooled == 250 })
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "spool replayed", 30*time.Second, func() bool { return w.Stats().SpoolFiles == 0 })
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := w.Stats(); s.Replayed != 100 || s.Deduplicated != 150 {
		t.Fatalf("stats %+v: want 100 replayed, 150 found already stored", s)
	}
	if rows, distinct := countRows(t, cfg, site); rows != 250 || distinct != 250 {
		t.Fatalf("stored %d rows (%d distinct), want 250", rows, distinct)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
