package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/collector/pageload"
	"github.com/verityhq/verity/storage/chtest"
)

// TestServeStoppedMidLoadWhileClickHouseDown: browsers post events over real
// HTTP to `verity serve`; ClickHouse dies, then the collector is stopped
// gracefully (Ctrl-C) mid-load. Every event it answered 202 for is in the
// spool, and the next `verity serve` stores it, once, when ClickHouse is back.
func TestServeStoppedMidLoadWhileClickHouseDown(t *testing.T) {
	srv := chtest.NewServer(t)
	chcfg := chtest.ConfigFor(t, srv.Addr())
	c := &cli{t: t, env: map[string]string{
		"VERITY_CLICKHOUSE_ADDR": chcfg.Addr, "VERITY_CLICKHOUSE_DATABASE": chcfg.Database, "VERITY_SECRET": testSecret,
	}}
	c.mustRun("", "migrate")
	out, _ := c.mustRun("", "tenant", "create", "--name", "Acme", "--json")
	var tenant struct {
		ID string `json:"tenant_id"`
	}
	if err := json.Unmarshal([]byte(out), &tenant); err != nil {
		t.Fatal(err)
	}
	out, _ = c.mustRun("", "site", "create", "--tenant", tenant.ID, "--domain", "acme.example", "--origin", "https://www.acme.example", "--json")
	var site siteOut
	if err := json.Unmarshal([]byte(out), &site); err != nil {
		t.Fatal(err)
	}

	cfg := config.Default()
	cfg.Secret = testSecret
	cfg.ClickHouse = chcfg
	cfg.Collector.Listen, cfg.Dashboard.Listen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Collector.ChallengeRate = 0 // every client is 127.0.0.1
	cfg.Writer.SpoolDir = filepath.Join(t.TempDir(), "spool")
	cfg.Writer.FlushInterval, cfg.Writer.RetryInterval, cfg.Writer.InsertTimeout = 100*time.Millisecond, 200*time.Millisecond, 2*time.Second
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	addr, done := startServe(ctx, t, cfg)
	var accepted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			browse(addr, site.PublicKey, &accepted, stop)
		}()
	}
	waitUntil(t, "events accepted", 20*time.Second, func() bool { return accepted.Load() > 200 })
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	before := accepted.Load()
	waitUntil(t, "events accepted while ClickHouse is down", 20*time.Second, func() bool { return accepted.Load() > before+200 })
	cancel() // graceful stop, clients still posting
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v at shutdown", err)
	}
	close(stop)
	wg.Wait()
	if files, _ := filepath.Glob(filepath.Join(cfg.Writer.SpoolDir, "*.batch")); len(files) == 0 {
		t.Fatal("nothing spooled although ClickHouse was down at shutdown")
	}

	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	_, done2 := startServe(ctx2, t, cfg)
	st := c.store()
	siteID := uuid.MustParse(site.ID)
	want := uint64(accepted.Load())
	var rows, distinct uint64
	waitUntil(t, "the next serve replaying the spool", 30*time.Second, func() bool {
		var err error
		rows, distinct, err = st.CountEvents(context.Background(), siteID)
		return err == nil && rows >= want
	})
	cancel2()
	if err := <-done2; err != nil {
		t.Fatalf("second serve returned %v", err)
	}
	if rows, distinct, _ = st.CountEvents(context.Background(), siteID); rows != want || distinct != want {
		t.Fatalf("stored %d rows (%d distinct), answered 202 for %d", rows, distinct, want)
	}
	if files, _ := filepath.Glob(filepath.Join(cfg.Writer.SpoolDir, "*.batch")); len(files) != 0 {
		t.Fatalf("%d spool files left after replay", len(files))
	}
	t.Logf("accepted %d = persisted %d rows, %d distinct", want, rows, distinct)
}

// startServe runs serve until ctx ends and returns the collector's address.
func startServe(ctx context.Context, t *testing.T, cfg config.Config) (string, <-chan error) {
	t.Helper()
	addrs := make(chan map[string]string, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("VERBOSE") != "" {
		log = slog.Default()
	}
	go func() { done <- serve(ctx, cfg, "all", log, nil, func(a map[string]string) { addrs <- a }) }()
	select {
	case a := <-addrs:
		return a["collector"], done
	case err := <-done:
		t.Fatalf("serve ended early: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	return "", nil
}

// browse plays page loads against the collector until stop or until the
// collector stops answering: a challenge, its proof of work, then batches of
// two events; it counts the events answered 202.
func browse(addr, siteKey string, accepted *atomic.Int64, stop <-chan struct{}) {
	const origin, page = "https://www.acme.example", "https://www.acme.example/pricing"
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(path string, body any) (int, []byte, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Origin", origin)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		return resp.StatusCode, out, err
	}
	for {
		status, body, err := post("/api/challenge", pageload.ChallengeRequest{Site: siteKey, URL: page})
		if err != nil || status != 200 {
			return // the collector is shutting down
		}
		var ch pageload.Challenge
		if err := json.Unmarshal(body, &ch); err != nil {
			return
		}
		_, n, err := ch.Solve()
		if err != nil {
			return
		}
		for seq := 1; seq <= 20; seq++ {
			select {
			case <-stop:
				return
			default:
			}
			batch := pageload.Batch{Token: ch.Token, N: n, SolveMS: 5, Seq: seq, Events: []pageload.Event{
				{Type: "pageview", URL: fmt.Sprintf("%s?s=%d", page, seq), Title: "Pricing"},
				{Type: "engagement", URL: page, MS: 1000, Scroll: 50},
			}}
			status, body, err := post("/api/event", batch)
			if err != nil {
				return
			}
			if status == 202 {
				var a struct{ Accepted int64 }
				if json.Unmarshal(body, &a) == nil {
					accepted.Add(a.Accepted)
				}
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
