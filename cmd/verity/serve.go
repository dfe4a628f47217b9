package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/cmd/verity/internal/config"
	"github.com/verityhq/verity/collector"
	"github.com/verityhq/verity/dashboard"
	"github.com/verityhq/verity/storage"
)

func cmdServe(ctx context.Context, e env, args []string) error {
	fs := newFlags(e, "serve", "[--role all|collector|dashboard] [--config FILE]")
	role := fs.String("role", "all", "which servers to run: all, collector or dashboard")
	config.Flags(fs)
	if err := parse(fs, args); err != nil || helpAsked(args) {
		return err
	}
	if *role != "all" && *role != "collector" && *role != "dashboard" {
		return usagef("serve: --role %q: want all, collector or dashboard", *role)
	}
	cfg, err := loadConfig(e, fs)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, e.stderr)
	return serve(ctx, cfg, *role, log, nil, func(addrs map[string]string) {
		for name, addr := range addrs {
			log.Info("listening", "server", name, "addr", addr)
		}
	})
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config.Validate
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// site is one HTTP server to run.
type site struct {
	name, addr string
	app        *fiber.App
}

// serve runs the servers of role (plus extra) until ctx ends, then shuts
// down in order: stop accepting, finish requests, drain the writer into
// ClickHouse (or the spool), close ClickHouse.
func serve(ctx context.Context, cfg config.Config, role string, log *slog.Logger, extra []site, ready func(addrs map[string]string)) error {
	st, err := storage.Open(ctx, cfg.ClickHouse)
	if err != nil {
		return fmt.Errorf("%w\n(is ClickHouse running at %s, and has `verity migrate` run?)", err, cfg.ClickHouse.Addr)
	}
	defer st.Close()

	var sites []site
	var writer *storage.Writer
	var ingest *collector.Handler
	if role == "all" || role == "collector" {
		keys, err := keyring(cfg)
		if err != nil {
			return err
		}
		if writer, err = storage.NewWriter(cfg.Writer, st, log.With("component", "writer")); err != nil {
			return err
		}
		ingest, err = collector.New(cfg.Collector, collector.Deps{Queue: writer, DB: st, Sites: st, Rejections: st, Keys: keys, Scoring: &cfg.Scoring, Behaviour: &cfg.Behaviour, Log: log.With("component", "collector")})
		if err == nil {
			err = ingest.Start(ctx)
		}
		if err != nil {
			_ = writer.Close(context.Background())
			return err
		}
		sites = append(sites, site{"collector", cfg.Collector.Listen, ingest.App()})
	}
	if role == "all" || role == "dashboard" {
		// Without a master secret the dashboard still runs; it only
		// cannot make new site secret keys.
		keys, err := keyring(cfg)
		if err != nil {
			log.Warn("dashboard: no usable master secret; making site secret keys is disabled")
			keys = nil
		}
		h := dashboard.New(cfg.Dashboard, dashboard.Deps{Store: st, Keys: keys, CollectorURL: cfg.Collector.PublicURL}, log.With("component", "dashboard"))
		sites = append(sites, site{"dashboard", cfg.Dashboard.Listen, h.App()})
	}
	sites = append(sites, extra...)

	// Listen first, so a taken port is an error here rather than in a
	// goroutine after start-up was announced.
	listeners := make([]net.Listener, 0, len(sites))
	closeAll := func() {
		for _, l := range listeners {
			l.Close()
		}
	}
	addrs := map[string]string{}
	for _, s := range sites {
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			closeAll()
			if writer != nil {
				_ = writer.Close(context.Background())
			}
			return fmt.Errorf("%s: listen on %s: %w", s.name, s.addr, err)
		}
		listeners = append(listeners, l)
		addrs[s.name] = l.Addr().String()
	}
	failed := make(chan error, len(sites))
	for i, s := range sites {
		go func() {
			if err := s.app.Listener(listeners[i]); err != nil {
				failed <- fmt.Errorf("%s: %w", s.name, err)
			}
		}()
	}
	if cfg.Collector.PprofListen != "" && ingest != nil {
		stopPprof, err := servePprof(cfg.Collector.PprofListen, log)
		if err != nil {
			closeAll()
			_ = writer.Close(context.Background())
			return err
		}
		defer stopPprof()
		addrs["pprof"] = cfg.Collector.PprofListen
	}
	if ready != nil {
		ready(addrs)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down (press Ctrl-C again to force)")
	case runErr = <-failed:
		log.Error("server failed; shutting down", "err", runErr)
	}
	for _, s := range sites {
		if err := s.app.ShutdownWithTimeout(10 * time.Second); err != nil {
			log.Warn("server shutdown", "server", s.name, "err", err)
		}
	}
	if ingest != nil {
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if err := ingest.Close(ictx); err != nil {
			log.Warn("collector close", "err", err)
		}
		cancel()
	}
	if writer != nil {
		// WithoutCancel: ctx is already cancelled, and the last batch must
		// still reach ClickHouse or the spool.
		drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		s := writer.Stats()
		if err := writer.Close(drainCtx); err != nil {
			runErr = errors.Join(runErr, err)
		}
		after := writer.Stats()
		log.Info("writer drained", "inserted", after.Inserted, "spooled", after.Spooled, "queued_at_shutdown", s.Queued)
	}
	return runErr
}

// servePprof runs the profiler on its own loopback listener (validated by
// collector.Config), apart from the public collector.
func servePprof(addr string, log *slog.Logger) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: collector.PprofHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("pprof server stopped", "err", err)
		}
	}()
	return func() { _ = srv.Close() }, nil
}
