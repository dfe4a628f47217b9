package storage_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
	"github.com/verityhq/verity/storage/fixture"
)

// BenchmarkOverview loads a fixture of VERITY_BENCH_EVENTS events (default
// 1,000,000) spread evenly over VERITY_BENCH_SITES sites (default 100)
// across 30 days into the test ClickHouse, then runs every panel query of a
// site's dashboard overview for one site over the 30 days, and reports each
// panel's p95, the p95 of all panels run one after the other, and of the
// first screen (aggregate, chart, the default tab of each breakdown panel,
// vitals, DOM findings, quality) one after the other and two at a time;
// VERITY_BENCH_MIN=1 adds each panel's fastest run. Loading takes 10 to 40
// seconds per million events; see docs/benchmarks.md for the commands and
// figures.
func BenchmarkOverview(b *testing.B) {
	ctx := context.Background()
	end := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	st, site := benchStore(b, end)
	q := storage.Query{SiteID: site, From: end.AddDate(0, 0, -30), To: end, View: storage.ViewHuman, Compare: true}
	filtered := q.WithFilter(storage.Filter{Dimension: storage.DimSource, Value: "Google"})
	type panel struct {
		name  string
		first bool // on the first screen: the default tab of each panel
		run   func() error
	}
	panels := []panel{
		{"aggregate", true, func() error { _, err := st.Aggregate(ctx, q); return err }},
		{"timeseries", true, func() error { _, err := st.Timeseries(ctx, q, storage.IntervalDay); return err }},
		{"quality", true, func() error { _, err := st.TrafficQuality(ctx, q.SiteID, q.From, q.To); return err }},
		{"vitals", true, func() error { _, err := st.Vitals(ctx, q, 0); return err }},
		{"dom", true, func() error { _, err := st.DOMFindings(ctx, q, 0); return err }},
		{"filtered-aggregate", false, func() error { _, err := st.Aggregate(ctx, filtered); return err }},
	}
	first := map[storage.Dimension]bool{storage.DimSource: true, storage.DimPage: true, storage.DimCountry: true, storage.DimDevice: true, storage.DimEvent: true}
	for _, d := range []storage.Dimension{storage.DimSource, storage.DimChannel, storage.DimUTMCampaign, storage.DimPage,
		storage.DimEntryPage, storage.DimExitPage, storage.DimCountry, storage.DimCity, storage.DimDevice,
		storage.DimBrowser, storage.DimOS, storage.DimEvent, storage.PropDimension("plan")} {
		panels = append(panels, panel{string(d), first[d], func() error { _, err := st.Breakdown(ctx, q, d, 0); return err }})
	}
	times := make([][]time.Duration, len(panels))
	var all, firstScreen, twoWay []time.Duration
	for b.Loop() {
		var total, firstTotal time.Duration
		for i, p := range panels {
			start := time.Now()
			if err := p.run(); err != nil {
				b.Fatalf("%s: %v", p.name, err)
			}
			d := time.Since(start)
			times[i] = append(times[i], d)
			total += d
			if p.first {
				firstTotal += d
			}
		}
		all, firstScreen = append(all, total), append(firstScreen, firstTotal)
		// The first screen again, two panels at a time, as a page handler
		// that runs its queries concurrently would on this 2-core machine.
		start := time.Now()
		work := make(chan panel)
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				for p := range work {
					if err := p.run(); err != nil {
						b.Errorf("%s: %v", p.name, err)
					}
				}
			})
		}
		for _, p := range panels {
			if p.first {
				work <- p
			}
		}
		close(work)
		wg.Wait()
		twoWay = append(twoWay, time.Since(start))
	}
	for i, p := range panels {
		b.ReportMetric(p95(times[i]), "ms-p95-"+p.name)
		if os.Getenv("VERITY_BENCH_MIN") != "" {
			b.ReportMetric(float64(slices.Min(times[i]).Microseconds())/1000, "ms-min-"+p.name)
		}
	}
	b.ReportMetric(p95(all), "ms-p95-all-panels")
	b.ReportMetric(p95(firstScreen), "ms-p95-first-screen")
	b.ReportMetric(p95(twoWay), "ms-p95-first-screen-2way")
}

// settle waits (at most two minutes) for ClickHouse to merge the parts the
// load left, as it would have long since in production, and logs them.
func settle(b *testing.B, cfg storage.Config) {
	b.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{cfg.Addr}, Auth: clickhouse.Auth{Database: cfg.Database}})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	parts := func() uint64 {
		var n uint64
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active").Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	start, last := time.Now(), parts()
	for time.Since(start) < 2*time.Minute {
		time.Sleep(10 * time.Second)
		n := parts()
		if n >= last {
			break
		}
		last = n
	}
	b.Logf("%d active parts of events after waiting %s for merges", last, time.Since(start).Round(time.Second))
}

// benchStore loads the fixture into a fresh database, or, when
// VERITY_BENCH_DB and VERITY_BENCH_SITE are set, uses that database on the
// server VERITY_TEST_CLICKHOUSE names, filled by `verity fixture --end
// 2026-03-31T00:00:00Z` (see docs/benchmarks.md), and that site.
func benchStore(b *testing.B, end time.Time) (*storage.Store, uuid.UUID) {
	if db := os.Getenv("VERITY_BENCH_DB"); db != "" {
		site, err := uuid.Parse(os.Getenv("VERITY_BENCH_SITE"))
		if err != nil {
			b.Fatalf("VERITY_BENCH_SITE: %v", err)
		}
		cfg := storage.DefaultConfig()
		cfg.Addr, cfg.Database = chtest.Addr(b), db
		st, err := storage.Open(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st, site
	}
	events, sites := envInt(b, "VERITY_BENCH_EVENTS", 1_000_000), envInt(b, "VERITY_BENCH_SITES", 100)
	cfg := chtest.Config(b)
	st := chtest.StoreFor(b, cfg)
	loadStart := time.Now()
	loadFixture(b, st, events, sites, end)
	b.Logf("loaded %d events for %d sites in %s", events, sites, time.Since(loadStart).Round(time.Second))
	settle(b, cfg)
	return st, benchSite(0)
}

// loadFixture writes the fixture, two sites at a time.
func loadFixture(b *testing.B, st *storage.Store, events, sites int, end time.Time) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, sites)
	next := make(chan int)
	for range 2 {
		wg.Go(func() {
			for i := range next {
				n := events / sites
				if i < events%sites {
					n++
				}
				cfg := fixture.Config{Events: n, Days: 30, End: end, Seed: 1, Domain: fmt.Sprintf("site-%d.example", i)}
				if err := fixture.Write(context.Background(), st, benchSite(i), cfg, nil); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range sites {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

func benchSite(i int) uuid.UUID {
	return uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1))
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number", name, s)
	}
	return n
}

// p95 in milliseconds: the value below which 95 % of the runs fall.
func p95(ds []time.Duration) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)*95+99)/100-1].Microseconds()) / 1000
}
