package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/cmd/verity/internal/loadgen"
	"github.com/verityhq/verity/storage"
)

const loadgenHelp = `[--url URL] --site KEY|DOMAIN|ID [--duration 10s] [--rate N|N%] [--concurrency 64] [--mix bot=0.1,replay=0.02,forge=0.02] [--baseline] [--json] [--config FILE]

Drives a running collector with the traffic of --concurrency page loads at
once: challenges, proofs of work solved natively, the snippet's event
batches with browsers' headers. The site is looked up in ClickHouse (the
same configuration as serve: --config, VERITY_*), and at the end the events
stored for it are counted: they must equal the events accepted (exit 1 if
not). Don't send other traffic to the site during a run.

Each page load comes from its own X-Forwarded-For address (--xff), which the
collector believes only from a trusted proxy: give it
collector.trusted_proxies: [127.0.0.1], or turn its per-network limit off
with collector.challenge_rate: 0, or every page load counts against one /24.`

func cmdLoadgen(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "loadgen", loadgenHelp)
	url := fs.String("url", "", "the collector's base URL (default: collector.public_url)")
	siteRef := fs.String("site", "", "the site: its public key, domain or id (required)")
	origin := fs.String("origin", "", "the Origin to send (default: the site's first allowed origin)")
	duration := fs.Duration("duration", 10*time.Second, "how long to send")
	rate := fs.String("rate", "0", "requests per second, scheduled at fixed intervals (open loop); 0 sends as fast as --concurrency allows; N% (with --baseline) is that share of the baseline's requests/s")
	concurrency := fs.Int("concurrency", 64, "page loads, and requests, in flight at once")
	mix := fs.String("mix", "", "shares of page loads that are bots, replays or forgeries, e.g. bot=0.1,replay=2%,forge=0.01")
	baseline := fs.Bool("baseline", false, "first measure a no-op HTTP handler in this process with the same load, and report the collector as a share of it")
	xff := fs.Bool("xff", true, "send each page load from its own X-Forwarded-For address (198.18.0.0/15, 2001:db8::/32)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	flushWait := fs.Duration("flush-wait", 30*time.Second, "how long to wait for the accepted events to be stored")
	seed := fs.Uint64("seed", 1, "seed of the random choices (visitors, pages, mix)")
	cpuProfile := fs.String("cpuprofile", "", "write loadgen's own CPU profile to this file (what the load costs the client)")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	if *siteRef == "" {
		return usagef("loadgen: --site is required")
	}
	m, err := loadgen.ParseMix(*mix)
	if err != nil {
		return usagef("loadgen: %v", err)
	}
	r, share, err := parseRate(*rate)
	if err != nil {
		return usagef("loadgen: %v", err)
	}
	if share > 0 && !*baseline {
		return usagef("loadgen: --rate %s needs --baseline", *rate)
	}
	cfg, err := config.Load(fs, e.getenv)
	if err == nil {
		err = cfg.ClickHouse.Validate()
	}
	if err != nil {
		return fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	if *url == "" {
		*url = cfg.Collector.PublicURL
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	site, err := findSite(ctx, st, *siteRef)
	if err != nil {
		return err
	}
	if *origin == "" {
		if len(site.AllowedOrigins) == 0 {
			return fmt.Errorf("loadgen: site %s allows no Origin; give one with --origin", site.Domain)
		}
		*origin = site.AllowedOrigins[0]
	}
	lc := loadgen.Config{URL: strings.TrimSuffix(*url, "/"), Site: site.PublicKey, Origin: *origin, Duration: *duration, Rate: r,
		Concurrency: *concurrency, Mix: m, ForwardedFor: *xff, Seed: *seed}
	opt := loadgen.Options{Baseline: *baseline, RateShare: share, Counter: st, SiteID: site.ID, FlushWait: *flushWait,
		Progress: progressPrinter(e.stderr)}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadgen.Run(ctx, lc, opt)
	if res.Collector.Target != "" || res.Baseline != nil {
		fmt.Fprintln(e.stderr)
		if *asJSON {
			if perr := printJSON(e.stdout, res); perr != nil {
				return perr
			}
		} else {
			res.Write(e.stdout)
		}
	}
	if errors.Is(err, loadgen.ErrMismatch) {
		p := res.Persisted
		return fmt.Errorf("MISMATCH: %d events accepted but %d rows (%d distinct) stored within %s", p.Accepted, p.Rows, p.Distinct, *flushWait)
	}
	return err
}

// parseRate reads "2000" (requests/s) or "70%" (a share of the baseline).
func parseRate(s string) (rate, share float64, err error) {
	if t, ok := strings.CutSuffix(s, "%"); ok {
		share, err = strconv.ParseFloat(t, 64)
		if err != nil || share <= 0 || share > 1000 {
			return 0, 0, fmt.Errorf("--rate %q: want a positive percentage", s)
		}
		return 0, share / 100, nil
	}
	rate, err = strconv.ParseFloat(s, 64)
	if err != nil || rate < 0 {
		return 0, 0, fmt.Errorf("--rate %q: want requests per second (0: as fast as possible) or N%%", s)
	}
	return rate, 0, nil
}

// findSite looks a site up by public key, id or domain.
func findSite(ctx context.Context, st *storage.Store, ref string) (storage.Site, error) {
	sites, err := st.Sites(ctx, storage.SiteFilter{})
	if err != nil {
		return storage.Site{}, err
	}
	for _, s := range sites {
		if s.PublicKey == ref || s.ID.String() == ref || s.Domain == ref {
			return s, nil
		}
	}
	return storage.Site{}, fmt.Errorf("loadgen: no site with key, id or domain %q (see `verity site list`)", ref)
}

// progressPrinter rewrites one line on a terminal and prints a plain line
// every 5 s otherwise (a log, CI).
func progressPrinter(w io.Writer) loadgen.Progress {
	f, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	var last, lastReq int64
	return func(elapsed time.Duration, requests, events, rejected int64) {
		secs := int64(elapsed.Round(time.Second) / time.Second)
		if requests < lastReq { // a new phase
			last, lastReq = 0, 0
		}
		rps := requests - lastReq
		lastReq = requests
		line := fmt.Sprintf("%4ds  %8d requests  %6d req/s (last second)  %9d events accepted  %6d rejected", secs, requests, rps, events, rejected)
		switch {
		case tty:
			fmt.Fprintf(w, "\r%s", line)
		case secs-last >= 5:
			last = secs
			fmt.Fprintln(w, line)
		}
	}
}
