package storage_test

import (
	"context"
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

// BenchmarkWriterEnqueue measures what a request pays to hand its rows to
// the batch writer: appending a first batch's five rows to the queue (the
// inserts happen on the writer's goroutine and are measured by
// BenchmarkInsertEvents).
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
		for w.Enqueue(rows...) != nil { // full: the writer drains it
			time.Sleep(time.Millisecond)
		}
	}
}
