package storage_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// discardSink stores nothing: the benchmark measures the writer's side.
type discardSink struct{}

func (discardSink) InsertEvents(context.Context, []storage.Event) error { return nil }
func (discardSink) ExistingEventIDs(context.Context, uuid.UUID, time.Time, time.Time, []uint64) (map[uint64]bool, error) {
	return nil, nil
}

// BenchmarkWriterEnqueue measures the writer's in-memory path for a first
// batch's five rows: Enqueue, and the writer goroutine taking 10k-row
// batches off the queue for a sink that stores nothing (inserts are
// BenchmarkInsertEvents). Both share the CPU, so ns/op is the cost per
// request of queueing and batching together.
func BenchmarkWriterEnqueue(b *testing.B) {
	cfg := storage.DefaultWriterConfig()
	cfg.SpoolDir = b.TempDir()
	cfg.FlushInterval = 10 * time.Millisecond
	w, err := storage.NewWriter(cfg, discardSink{}, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close(context.Background())
	rows := testEvents(uuid.New(), 0, 5)
	b.ReportAllocs()
	for b.Loop() {
		for w.Enqueue(rows...) != nil { // full: let the writer drain it
			runtime.Gosched()
		}
	}
	b.ReportMetric(float64(5*b.N)/b.Elapsed().Seconds(), "rows/s")
}
