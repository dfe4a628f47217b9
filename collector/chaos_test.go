package collector_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// TestChaosSpoolFullAnswers503: ClickHouse dies while browsers send
// events; the collector keeps answering 202 while the writer spools, then
// 503 with Retry-After once the spool is at its cap. After ClickHouse
// returns, every event it answered 202 for is stored, once.
func TestChaosSpoolFullAnswers503(t *testing.T) {
	srv := chtest.NewServer(t)
	wcfg := storage.DefaultWriterConfig()
	wcfg.SpoolDir = filepath.Join(t.TempDir(), "spool")
	wcfg.FlushInterval, wcfg.RetryInterval, wcfg.InsertTimeout = 50*time.Millisecond, 100*time.Millisecond, 2*time.Second
	wcfg.QueueSize, wcfg.BatchSize = 100, 20
	wcfg.SpoolMaxBytes = 32 << 10
	r := newRigOn(t, chtest.ConfigFor(t, srv.Addr()), wcfg, nil, nil)
	origin := "https://www.acme.example"

	accepted := 0
	var token string
	var n uint32
	// post sends the next batch (8 rows), with a fresh page load every 20
	// batches to stay under the per-token caps.
	post := func(i int) (int, map[string]any, string) {
		if i%20 == 0 {
			token, n = r.pageLoad(r.siteA, origin)
		}
		status, hdr, body := r.send("/api/event", origin, chromeUA, "text/plain", eventBody(token, n, i%20+1, firstBatch), nil)
		if status == 202 {
			accepted += int(body["accepted"].(float64))
		}
		return status, body, hdr.Get("Retry-After")
	}
	i := 0
	for ; i < 5; i++ {
		if status, body, _ := post(i); status != 202 {
			t.Fatalf("batch %d with ClickHouse up: %d %v", i, status, body)
		}
	}

	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	accepting := 0
	for busy := false; !busy; i++ {
		if i > 400 {
			t.Fatalf("no 503 after %d batches with ClickHouse down; writer %+v", i, r.writer.Stats())
		}
		status, body, retry := post(i)
		switch status {
		case 202:
			accepting++
		case 503:
			code, _ := body["error"].(map[string]any)["code"].(string)
			if code != "busy" || retry == "" {
				t.Fatalf("503 with code %q, Retry-After %q; want busy with Retry-After", code, retry)
			}
			busy = true
		default:
			t.Fatalf("batch %d with ClickHouse down: %d %v", i, status, body)
		}
		time.Sleep(5 * time.Millisecond) // let the writer spool
	}
	if accepting == 0 || r.writer.Stats().Spooled == 0 {
		t.Fatalf("accepted %d batches into the spool before 503, writer %+v; want some", accepting, r.writer.Stats())
	}

	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s := r.writer.Stats(); s.SpoolFiles > 0 || s.Down || s.Queued > 0; s = r.writer.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("spool not replayed after ClickHouse came back: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, body, _ := post(i); status != 202 {
		t.Fatalf("after ClickHouse came back: %d %v", status, body)
	}
	r.finish()
	rows, distinct, err := r.st.CountEvents(context.Background(), r.siteA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rows != uint64(accepted) || distinct != uint64(accepted) {
		t.Fatalf("stored %d rows (%d distinct), answered 202 for %d", rows, distinct, accepted)
	}
	t.Logf("%d batches accepted into the spool before 503; accepted %d = persisted %d", accepting, accepted, rows)
}
