package dashboard

import (
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verityhq/verity/storage"
	eventfixture "github.com/verityhq/verity/storage/fixture"
)

// BenchmarkExport downloads a full file (storage.MaxRawEvents generated
// events of one site over 30 days) in each format and reports its size,
// its rows per second and the dashboard process's peak heap while it
// streams (sampled every 5 ms), which stays flat whatever the period:
//
//	go test ./dashboard/ -run '^$' -bench Export -benchtime 1x
func BenchmarkExport(b *testing.B) {
	f := newFixture(b, DefaultConfig())
	end := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	err := eventfixture.Generate(f.siteA.ID, eventfixture.Config{Events: storage.MaxRawEvents, Days: 30, End: end, Seed: 1, Domain: f.siteA.Domain}, 50_000,
		func(es []storage.Event) error { return f.st.InsertEvents(context.Background(), es) })
	if err != nil {
		b.Fatal(err)
	}
	cookie := f.signedIn(f.ownerA).cookies["verity_session"]
	// A real listener: app.Test would hold the whole response in memory.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = f.app.Listener(ln) }()
	b.Cleanup(func() { _ = f.app.Shutdown() })
	for _, format := range exportFormatOrder {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var base runtime.MemStats
				runtime.ReadMemStats(&base)
				var peak atomic.Uint64
				done := make(chan struct{})
				go func() {
					var m runtime.MemStats
					for {
						select {
						case <-done:
							return
						case <-time.After(5 * time.Millisecond):
							runtime.ReadMemStats(&m)
							if m.HeapInuse > peak.Load() {
								peak.Store(m.HeapInuse)
							}
						}
					}
				}()
				start := time.Now()
				req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/sites/"+f.siteA.ID.String()+"/export/events?period=custom&from=2026-03-01&to=2026-03-30&view=all&format="+format, nil)
				if err != nil {
					b.Fatal(err)
				}
				req.AddCookie(&http.Cookie{Name: "verity_session", Value: cookie})
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				close(done)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d, %v", resp.StatusCode, err)
				}
				secs := time.Since(start).Seconds()
				b.ReportMetric(float64(n)/1e6, "MB")
				b.ReportMetric(float64(storage.MaxRawEvents)/secs, "rows/s")
				b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/1e6, "MB-peak-heap-growth")
			}
		})
	}
}
