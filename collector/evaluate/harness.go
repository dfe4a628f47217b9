// Package evaluate measures how well the collector's scoring tells people
// from bots: it starts the real collector (collector.New) with generated
// network databases, replays labelled traffic at it over HTTP the way a
// browser or a bot would, and reports precision, recall and false-positive
// rate per class against the targets of docs/abuse.md ("Evaluation").
//
// It knows the scorer only by what the collector stores (verdict, class,
// reasons), so it stays valid as signals are added. It is used by
// `verity abuse eval` and by the tests that hold the targets; nothing in the
// serving path imports it.
package evaluate

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/collector"
	"github.com/verityhq/verity/storage"
)

// Options configure a Collector.
type Options struct {
	// Origins the site accepts besides https://shop.example (a test page's).
	Origins []string
	// ForwardedFor makes the collector believe X-Forwarded-For from the
	// loopback peer, so each request can name its client address.
	ForwardedFor bool
	// Clock, when set, is the collector's clock; nil is the real one.
	Clock *Clock
	// Scoring is the scorer's configuration; nil is the default.
	Scoring *abuse.ScoreConfig
}

// Collector is the production collector serving on a loopback port, with an
// in-memory site, a queue that records every event instead of writing to
// ClickHouse, and generated network databases.
type Collector struct {
	URL  string // http://127.0.0.1:port
	Site storage.Site

	h      *collector.Handler
	app    *fiber.App
	queue  *recorder
	dir    string
	cancel context.CancelFunc
	served chan error
}

// Start builds the collector with collector.New and serves it until Close.
func Start(ctx context.Context, o Options) (_ *Collector, err error) {
	dir, err := os.MkdirTemp("", "verity-eval-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	files, err := writeNetFiles(dir)
	if err != nil {
		return nil, err
	}
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		return nil, err
	}
	keys, err := abuse.NewKeyring(master)
	if err != nil {
		return nil, err
	}
	site := storage.Site{ID: uuid.New(), TenantID: uuid.New(), Name: "Evaluation", Domain: "shop.example",
		PublicKey: "pk_evaluation", AllowedOrigins: append([]string{origin}, o.Origins...)}
	cfg := collector.DefaultConfig()
	cfg.ASNDB, cfg.AnonymousIPDB, cfg.HostingCIDRs, cfg.TorExits = files.ASNDB, files.AnonymousIPDB, files.HostingCIDRs, files.TorExits
	// Every sample comes from the harness's one address: per-address rate
	// limits would measure the harness, not the traffic.
	cfg.ChallengeRate = 0
	if o.ForwardedFor {
		cfg.TrustedProxies = []string{"127.0.0.1"}
	}
	deps := collector.Deps{Queue: &recorder{}, DB: noDB{}, Sites: staticSites{site}, Rejections: noRejections{},
		Keys: keys, Scoring: o.Scoring, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if o.Clock != nil {
		deps.Now = o.Clock.Now
	}
	h, err := collector.New(cfg, deps)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := h.Start(runCtx); err != nil {
		cancel()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return nil, err
	}
	c := &Collector{URL: "http://" + ln.Addr().String(), Site: site, h: h, app: h.App(), queue: deps.Queue.(*recorder),
		dir: dir, cancel: cancel, served: make(chan error, 1)}
	go func() { c.served <- c.app.Listener(ln) }()
	return c, nil
}

// Events returns a copy of every event the collector has queued so far.
func (c *Collector) Events() []storage.Event { return c.queue.all() }

// Close stops the server and the collector and removes the generated files.
func (c *Collector) Close() error {
	err := c.app.ShutdownWithTimeout(5 * time.Second)
	c.cancel()
	err = errors.Join(err, <-c.served, c.h.Close(context.Background()), os.RemoveAll(c.dir))
	return err
}

// recorder is the collector's event queue: it keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []storage.Event
}

func (r *recorder) Enqueue(ev ...storage.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev...)
	return nil
}

func (*recorder) SpoolNearlyFull() bool { return false }

func (r *recorder) all() []storage.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]storage.Event(nil), r.events...)
}

type noDB struct{}

func (noDB) Ping(context.Context) error { return nil }

type staticSites []storage.Site

func (s staticSites) Sites(context.Context, storage.SiteFilter) ([]storage.Site, error) {
	return s, nil
}

// noRejections drops the per-minute rejection counters: the harness sees
// each refusal in its HTTP answer.
type noRejections struct{}

func (noRejections) InsertRejections(context.Context, []storage.Rejection) error { return nil }

// Clock is a clock the harness moves: a replayed page load's events come
// a browser's batching delay after its challenge without anyone sleeping.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
