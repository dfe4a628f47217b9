package loadgen

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/collector"
	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// startCollector runs a real collector (the production constructor, app
// and batch writer) on loopback against a fresh ClickHouse database,
// trusting loopback as its proxy as docs/benchmarks.md says to, with one
// site. It returns the collector's URL, the site and the store.
func startCollector(t *testing.T) (string, storage.Site, *storage.Store) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	st := chtest.Store(t)
	master := make([]byte, 32)
	for i := range master {
		master[i] = byte(7 * i)
	}
	keys, err := abuse.NewKeyring(master)
	if err != nil {
		t.Fatal(err)
	}
	site := storage.Site{ID: uuid.New(), TenantID: uuid.New(), Name: "Load", Domain: "load.example", PublicKey: "pk_" + uuid.NewString()[:12],
		AllowedOrigins: []string{"https://load.example"}}
	if err := st.PutSite(ctx, site); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	wcfg := storage.DefaultWriterConfig()
	wcfg.SpoolDir = t.TempDir()
	writer, err := storage.NewWriter(wcfg, st, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := collector.DefaultConfig()
	cfg.TrustedProxies = []string{"127.0.0.1"}
	h, err := collector.New(cfg, collector.Deps{Queue: writer, DB: st, Sites: st, Rejections: st, Keys: keys, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	app := h.App()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(l) }()
	t.Cleanup(func() {
		_ = app.ShutdownWithTimeout(5 * time.Second)
		cancel()
		_ = h.Close(context.Background())
		_ = writer.Close(context.Background())
	})
	return "http://" + l.Addr().String(), site, st
}

// TestRunAgainstCollector is the smoke run `make test` keeps: three
// seconds of every kind of page load against a real collector and
// ClickHouse; every accepted event is stored, and the collector refuses
// exactly the replays and forgeries the mix sent, with their reasons.
func TestRunAgainstCollector(t *testing.T) {
	url, site, st := startCollector(t)
	mix, err := ParseMix("bot=0.1,replay=0.1,forge=0.1")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: url, Site: site.PublicKey, Origin: site.AllowedOrigins[0], Duration: 3 * time.Second, Rate: 300,
		Concurrency: 8, Mix: mix, ForwardedFor: true, Seed: 42}
	res, err := Run(context.Background(), cfg, Options{Baseline: true, Counter: st, SiteID: site.ID, FlushWait: 20 * time.Second})
	if err != nil {
		t.Fatalf("run: %v\n%+v", err, res)
	}
	c := res.Collector
	if c.Errors != 0 || c.Missed > 20 {
		t.Errorf("transport errors %d (%v), missed slots %d", c.Errors, c.FirstErrors, c.Missed)
	}
	// 300/s for 3 s, give or take the slots in flight at the end.
	if c.Requests < 800 || c.Requests > 900 {
		t.Errorf("requests = %d, want ≈ 900", c.Requests)
	}
	for _, kind := range []string{kindHuman, kindBot, kindReplay, kindForge} {
		if c.PageLoads[kind] == 0 {
			t.Errorf("no %s page loads: %v", kind, c.PageLoads)
		}
	}
	if c.Expected[ReasonReplay] == 0 || c.Expected[ReasonForged] == 0 {
		t.Fatalf("the mix sent no replays or forgeries: %v", c.Expected)
	}
	if u := c.Unexpected(); len(u) != 0 {
		t.Errorf("rejected %v, expected %v: unexpected %v", c.Rejected, c.Expected, u)
	}
	p := res.Persisted
	if p == nil || !p.Match || p.Accepted < 1000 || c.Events != p.Accepted {
		t.Errorf("persisted %+v for %d events accepted", p, c.Events)
	}
	if res.Baseline == nil || res.Baseline.Requests == 0 || res.Ratio <= 0 || len(res.Baseline.Rejected) != 0 {
		t.Errorf("baseline %+v, ratio %v", res.Baseline, res.Ratio)
	}
	if l := c.Latency["event"]; l.Count == 0 || l.P50 <= 0 || l.P99 < l.P50 || l.Max < l.P99 {
		t.Errorf("event latencies %+v", l)
	}
}
