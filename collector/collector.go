// Package collector owns the ingest HTTP server: the snippet route, the
// challenge and event endpoints, health and readiness. It turns requests
// into storage.Event rows and hands them to the batch writer; it never
// imports the dashboard.
package collector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/collector/enrich"
	"github.com/verityhq/verity/script"
	"github.com/verityhq/verity/storage"
)

// EventQueue is the part of the batch writer the collector uses.
type EventQueue interface {
	Enqueue(events ...storage.Event) error
	SpoolNearlyFull() bool
}

// Pinger checks that ClickHouse answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

var (
	_ EventQueue = (*storage.Writer)(nil)
	_ Pinger     = (*storage.Store)(nil)
)

// Deps are what the collector works with.
type Deps struct {
	Queue      EventQueue    // the batch writer
	DB         Pinger        // for /readyz
	Sites      SiteSource    // refreshed into memory
	Rejections RejectionSink // per-minute rejection counters
	Keys       *abuse.Keyring
	Scoring    *abuse.ScoreConfig     // nil: abuse.DefaultScoreConfig()
	Behaviour  *abuse.BehaviourConfig // nil: abuse.DefaultBehaviourConfig()
	Log        *slog.Logger
	Now        func() time.Time // nil: time.Now
}

// Handler serves the collector's routes.
type Handler struct {
	cfg       Config
	queue     EventQueue
	db        Pinger
	log       *slog.Logger
	now       func() time.Time
	keys      *abuse.Keyring
	sites     *siteCache
	rejects   *rejections
	rejSink   RejectionSink
	issuer    *abuse.Issuer
	replay    *abuse.ReplayGuard
	ua        *enrich.UAParser
	geo       *enrich.GeoLookup
	network   *abuse.Network
	bots      *abuse.BotUA
	scoring   abuse.ScoreConfig
	pages     *pageSignals
	behaviour *behaviour
	sessions  *sessions
	s2sNonces *nonces
	checks    map[string]string // DOM checks named in every challenge answer
	snippetJS []byte
	etag      string
}

// New returns the collector's handler. Call Start before serving and Close
// after.
func New(cfg Config, d Deps) (*Handler, error) {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	ua, err := enrich.NewUAParser(cfg.UACacheSize)
	if err != nil {
		return nil, err
	}
	geo, err := enrich.OpenGeo(cfg.GeoIPDB)
	if err != nil {
		return nil, err
	}
	network, err := abuse.NewNetwork(abuse.NetworkConfig{ASNDB: cfg.ASNDB, AnonymousIPDB: cfg.AnonymousIPDB, HostingCIDRs: cfg.HostingCIDRs, TorExits: cfg.TorExits})
	if err != nil {
		geo.Close()
		return nil, err
	}
	scoring := abuse.DefaultScoreConfig()
	if d.Scoring != nil {
		scoring = *d.Scoring
	}
	behaviourCfg := abuse.DefaultBehaviourConfig()
	if d.Behaviour != nil {
		behaviourCfg = *d.Behaviour
	}
	bots, err := abuse.NewBotUA(cfg.UACacheSize)
	if err != nil {
		geo.Close()
		network.Close()
		return nil, err
	}
	return &Handler{
		cfg: cfg, queue: d.Queue, db: d.DB, log: d.Log, now: now, keys: d.Keys,
		sites:     newSiteCache(d.Sites, d.Log),
		rejects:   newRejections(),
		rejSink:   d.Rejections,
		issuer:    abuse.NewIssuer(d.Keys, abuse.TokenConfig{TTL: cfg.TokenTTL}, now),
		replay:    abuse.NewReplayGuard(abuse.ReplayConfig{}, now),
		ua:        ua,
		geo:       geo,
		network:   network,
		bots:      bots,
		scoring:   scoring,
		pages:     newPageSignals(1_000_000),
		behaviour: newBehaviour(behaviourCfg, now),
		sessions:  newSessions(1_000_000),
		s2sNonces: newNonces(),
		checks:    script.DefaultChecks(),
		snippetJS: script.V1(),
		etag:      script.V1ETag(),
	}, nil
}

// Start loads the sites and runs the background work (site refresh,
// rejection counters, session sweep) until ctx ends.
func (h *Handler) Start(ctx context.Context) error {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := h.sites.refresh(lctx); err != nil {
		return fmt.Errorf("collector: load sites: %w", err)
	}
	go h.sites.run(ctx, h.cfg.SiteRefresh)
	go h.network.WatchFiles(ctx, 30*time.Second, func(err error) {
		h.log.Warn("network lists not reloaded; keeping the previous ones", "err", err)
	})
	go h.background(ctx)
	return nil
}

func (h *Handler) background(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	minute := time.NewTicker(time.Minute)
	defer minute.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.flushRejections(ctx)
			h.sessions.sweep(h.now())
			h.pages.sweep(h.now())
		case <-minute.C:
			h.behaviour.sweep(h.now())
		}
	}
}

func (h *Handler) flushRejections(ctx context.Context) {
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := h.rejects.flush(fctx, h.rejSink); err != nil {
		h.log.Warn("rejection counters not written; kept for the next try", "err", err)
	}
}

// Close writes the last rejection counts and closes the geo database.
func (h *Handler) Close(ctx context.Context) error {
	h.flushRejections(ctx)
	return errors.Join(h.geo.Close(), h.network.Close())
}

// App builds the collector's Fiber app with its limits, error handler and
// routes.
func (h *Handler) App() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:                 "verity-collector",
		BodyLimit:               h.cfg.BodyLimit,
		ReadTimeout:             10 * time.Second,
		WriteTimeout:            10 * time.Second,
		IdleTimeout:             60 * time.Second,
		DisableStartupMessage:   true,
		ErrorHandler:            h.errorHandler,
		ProxyHeader:             proxyHeader(h.cfg.TrustedProxies),
		EnableTrustedProxyCheck: len(h.cfg.TrustedProxies) > 0,
		TrustedProxies:          h.cfg.TrustedProxies,
	})
	// A panic in a handler becomes a 500 (logged by errorHandler), not a
	// dead collector.
	app.Use(recover.New())
	h.Register(app)
	return app
}

// proxyHeader names the header carrying the client address, believed only
// from trusted proxies.
func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

// Register adds the collector's routes.
func (h *Handler) Register(r fiber.Router) {
	r.Get("/healthz", h.healthz)
	r.Get("/readyz", h.readyz)
	r.Get("/s/v1.js", compress.New(compress.Config{Level: compress.LevelBestCompression}), h.snippet)
	r.Post("/api/challenge", h.rateLimit(1), h.challenge)
	r.Post("/api/event", h.rateLimit(10), h.event)
	r.Post("/api/v1/events", h.serverEvents)
}

func (h *Handler) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz fails when ClickHouse does not answer and the spool is nearly
// full: then accepted events could not be kept.
func (h *Handler) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	dbErr := h.db.Ping(ctx)
	spoolFull := h.queue.SpoolNearlyFull()
	status := fiber.Map{"clickhouse": "ok", "spool": "ok"}
	if dbErr != nil {
		status["clickhouse"] = "unreachable"
	}
	if spoolFull {
		status["spool"] = "nearly full"
	}
	if dbErr != nil && spoolFull {
		return c.Status(fiber.StatusServiceUnavailable).JSON(status)
	}
	return c.JSON(status)
}

// snippet serves the minified snippet, compressed by the route's
// middleware, revalidated by ETag. It is public, static code, so any page
// may load it, with Subresource Integrity too (which needs CORS: "*" is
// right here, unlike on the API routes, which name the one allowed Origin).
func (h *Handler) snippet(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600, stale-while-revalidate=86400")
	c.Set(fiber.HeaderETag, h.etag)
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if c.Get(fiber.HeaderIfNoneMatch) == h.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	return c.Send(h.snippetJS)
}

// rateLimit caps requests per client network (Fiber's limiter, keyed by
// the /24 or /48 prefix so one host cannot dodge it by rotating addresses
// within its block) at factor × collector.challenge_rate per minute.
func (h *Handler) rateLimit(factor int) fiber.Handler {
	if h.cfg.ChallengeRate == 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return limiter.New(limiter.Config{
		Max:        h.cfg.ChallengeRate * factor,
		Expiration: time.Minute,
		KeyGenerator: func(c *fiber.Ctx) string {
			return networkOf(clientIP(c))
		},
		LimitReached: func(c *fiber.Ctx) error {
			allowCORS(c, c.Get(fiber.HeaderOrigin))
			return h.reject(uuid.Nil, "rate_limited", &Error{Status: fiber.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests from this network; slow down"})
		},
	})
}

// networkOf is the client's network (abuse.ClientPrefix) as a limiter key.
func networkOf(ip netip.Addr) string {
	p, ok := abuse.ClientPrefix(ip)
	if !ok {
		return "invalid"
	}
	return p.String()
}

// Error is an API error with its HTTP status and stable code.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorHandler answers every error as JSON {"error": {"code", "message"}};
// internal errors are logged and never shown to the client.
func (h *Handler) errorHandler(c *fiber.Ctx, err error) error {
	var apiErr *Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &apiErr):
	case errors.As(err, &fe):
		apiErr = &Error{Status: fe.Code, Code: codeForStatus(fe.Code), Message: fe.Message}
	default:
		h.log.Error("collector request failed", "path", c.Path(), "err", err)
		apiErr = &Error{Status: fiber.StatusInternalServerError, Code: "internal", Message: "internal error"}
	}
	return c.Status(apiErr.Status).JSON(fiber.Map{"error": fiber.Map{"code": apiErr.Code, "message": apiErr.Message}})
}

func codeForStatus(status int) string {
	switch status {
	case fiber.StatusNotFound:
		return "not_found"
	case fiber.StatusMethodNotAllowed:
		return "method_not_allowed"
	case fiber.StatusRequestEntityTooLarge:
		return "body_too_large"
	case fiber.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case fiber.StatusTooManyRequests:
		return "rate_limited"
	case fiber.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal"
	}
	return "bad_request"
}
