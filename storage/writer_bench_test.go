package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// BenchmarkInsertEvents measures one clickhouse-go batch insert of 10,000
// realistic rows into the local ClickHouse; rows/s is the figure to quote.
func BenchmarkInsertEvents(b *testing.B) {
	st := chtest.Store(b)
	site := uuid.New()
	const batch = 10_000
	events := testEvents(site, 0, batch)
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		for i := range events {
			events[i].EventID += batch // distinct rows each round
		}
		if err := st.InsertEvents(context.Background(), events); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkWriterThroughput pushes events through the whole writer (queue,
// batching, insert) and reports end-to-end rows/s persisted.
func BenchmarkWriterThroughput(b *testing.B) {
	st := chtest.Store(b)
	cfg := storage.DefaultWriterConfig()
	cfg.SpoolDir = b.TempDir()
	w, err := storage.NewWriter(cfg, st, quietLog())
	if err != nil {
		b.Fatal(err)
	}
	site := uuid.New()
	chunk := testEvents(site, 0, 100)
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		for i := range chunk {
			chunk[i].EventID += 100
		}
		for {
			err := w.Enqueue(chunk...)
			if err == nil {
				break
			}
			if err != storage.ErrBusy {
				b.Fatal(err)
			}
			time.Sleep(time.Millisecond) // the benchmark outruns the server: back off as a client would on 503
		}
		n += len(chunk)
	}
	if err := w.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "rows/s")
}
