// Package dashboard owns the tenant-facing web application: sign-in,
// sessions, site pages and the read-only stats API. Every route and query is
// scoped to the signed-in user's tenants. It never imports the collector.
//
// Pages are templ components from dashboard/views, rendered with render.
// Every response carries a strict Content-Security-Policy with a fresh
// nonce; the nonce travels in the request context (templ.WithNonce) so that
// components can mark their inline scripts.
package dashboard

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// staticMaxAge is how long browsers may cache static files: a year. Pages
// link them by a content-hashed URL (views.AssetURL), so a changed file is a
// new URL.
const staticMaxAge = 365 * 24 * 60 * 60

// hstsValue is sent when the public URL is https.
const hstsValue = "max-age=31536000"

// Deps are what the dashboard needs from the rest of Verity.
type Deps struct {
	// Store holds accounts, tenants, sites and the audit log.
	Store *storage.Store
	// Stats answers the overview's questions; nil uses Store.
	Stats Stats
	// Keys derives site secret keys (for rotation); nil disables secret
	// rotation in the dashboard.
	Keys *abuse.Keyring
	// CollectorURL is the collector's public URL, for the snippet.
	CollectorURL string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Handler serves the dashboard's routes.
type Handler struct {
	cfg   Config
	deps  Deps
	store *storage.Store
	stats Stats
	log   *slog.Logger
	now   func() time.Time
	auth  *authenticator
	// parallel is how many statistics queries one page runs at once.
	parallel int
	// totpMu makes checking and recording a two-factor code one step.
	totpMu sync.Mutex
}

// New returns the dashboard's handler.
func New(cfg Config, deps Deps, log *slog.Logger) *Handler {
	h := &Handler{cfg: cfg, deps: deps, store: deps.Store, stats: deps.Stats, log: log, now: deps.Now, parallel: defaultParallelism}
	if h.stats == nil {
		h.stats = deps.Store
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.auth = newAuthenticator()
	return h
}

// App builds the dashboard's Fiber app: limits, panic recovery, the error
// page, and everything Register adds.
func (h *Handler) App() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "verity-dashboard",
		BodyLimit:             256 << 10,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		ErrorHandler:          h.errorHandler,
		// Behind a configured proxy the client is the first valid address
		// of X-Forwarded-For; otherwise the peer.
		ProxyHeader:             proxyHeader(h.cfg.TrustedProxies),
		EnableTrustedProxyCheck: len(h.cfg.TrustedProxies) > 0,
		TrustedProxies:          h.cfg.TrustedProxies,
		EnableIPValidation:      true,
	})
	app.Use(recover.New(recover.Config{
		EnableStackTrace:  true,
		StackTraceHandler: h.logPanic,
	}))
	h.Register(app)
	return app
}

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

// Register adds the dashboard's security headers, static files and routes
// to r. The headers come first: render refuses to serve a page without the
// CSP nonce they set.
func (h *Handler) Register(r fiber.Router) {
	r.Use(h.securityHeaders())
	r.Use(views.StaticPrefix, filesystem.New(filesystem.Config{
		Root:               http.FS(views.Static),
		MaxAge:             staticMaxAge,
		ContentTypeCharset: "utf-8",
	}))
	r.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	h.routes(r)
}

// render writes component as the response's HTML, rendered with the
// request context (which carries the CSP nonce). On failure the partial
// body is discarded and the error goes to the error handler.
func render(c *fiber.Ctx, component templ.Component) error {
	ctx := c.UserContext()
	if templ.GetNonce(ctx) == "" {
		return errors.New("dashboard: render without a CSP nonce (securityHeaders did not run)")
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	if err := component.Render(ctx, c.Response().BodyWriter()); err != nil {
		c.Response().ResetBody()
		return fmt.Errorf("dashboard: render: %w", err)
	}
	return nil
}

// securityHeaders sets the security headers on every response. Fiber's
// helmet sets the static ones; the Content-Security-Policy is set here
// because it carries a per-request nonce, which helmet's fixed string
// cannot, and HSTS is set here from the configured public URL (helmet keys
// it on the request's scheme, which a TLS-terminating proxy hides).
func (h *Handler) securityHeaders() fiber.Handler {
	static := helmet.New(helmet.Config{
		XFrameOptions:  "DENY",
		ReferrerPolicy: "same-origin",
		// ContentTypeNosniff ("nosniff"), XSSProtection ("0"),
		// Cross-Origin-{Embedder,Opener,Resource}-Policy (require-corp,
		// same-origin, same-origin) and the rest keep helmet's defaults.
		// ContentSecurityPolicy and HSTSMaxAge stay unset: see above.
	})
	hsts := h.httpsOnly()
	return func(c *fiber.Ctx) error {
		nonce := newNonce()
		c.SetUserContext(templ.WithNonce(c.UserContext(), nonce))
		c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy(nonce))
		if hsts {
			// Browsers ignore HSTS received over plain http (RFC 6797
			// §8.1), so it is safe on every response.
			c.Set(fiber.HeaderStrictTransportSecurity, hstsValue)
		}
		return static(c)
	}
}

// httpsOnly reports whether the dashboard is published over https.
func (h *Handler) httpsOnly() bool {
	u, err := url.Parse(h.cfg.PublicURL)
	return err == nil && u.Scheme == "https"
}

// contentSecurityPolicy allows the page's own stylesheet and images (and
// data: images), scripts only with the nonce, requests (htmx) and forms
// only to itself, and no framing, base URL changes, fonts or plugins.
func contentSecurityPolicy(nonce string) string {
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// newNonce returns 16 random bytes, base64-encoded.
func newNonce() string {
	var b [16]byte
	// crypto/rand.Read never returns an error (Go 1.24+): it crashes the
	// program rather than hand out predictable bytes.
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// errorHandler answers a failed request with a friendly page that depends
// only on the status: the error's text (Fiber's "Cannot GET /x", a driver's
// message, a panic value) is logged for 5xx and never shown.
func (h *Handler) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	if fe, ok := errors.AsType[*fiber.Error](err); ok {
		code = fe.Code
	}
	page := errorPage(code)
	if pe, ok := errors.AsType[*pageError](err); ok {
		code, page = pe.status, views.ErrorModel{Status: pe.status, Title: pe.title, Message: pe.message}
	}
	if code >= fiber.StatusInternalServerError {
		h.log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", code, "err", err)
	}
	c.Response().ResetBody()
	c.Status(code)
	if templ.GetNonce(c.UserContext()) == "" {
		// Fasthttp rejected the request before routing (too large, bad
		// syntax, timeout), so securityHeaders did not run: no HTML without
		// a CSP, plain text instead.
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.SendString(page.Title + "\n")
	}
	return render(c, views.ErrorPage(chromeOf(c, page.Title), page))
}

// errorPage is the view model of the error page for status code.
func errorPage(code int) views.ErrorModel {
	m := views.ErrorModel{Status: code}
	switch {
	case code == fiber.StatusNotFound:
		m.Title = "Page not found"
		m.Message = "There is nothing at this address. Check the link for a typo."
	case code == fiber.StatusMethodNotAllowed:
		m.Title = "Not possible here"
		m.Message = "This page cannot be used that way. Go back and try again from the page itself."
	case code == fiber.StatusForbidden:
		m.Title = "Not allowed"
		m.Message = "You do not have permission to do this."
	case code == fiber.StatusTooManyRequests:
		m.Title = "Too many attempts"
		m.Message = "Wait a few minutes, then try again."
	case code == fiber.StatusRequestEntityTooLarge:
		m.Title = "Request too large"
		m.Message = "What was sent is larger than the dashboard accepts."
	case code >= fiber.StatusInternalServerError:
		m.Title = "Something went wrong"
		m.Message = "The dashboard ran into a problem and has logged it. Try again in a moment."
	default:
		m.Title = http.StatusText(code)
		if m.Title == "" {
			m.Title = "Request failed"
		}
		m.Message = "The dashboard could not handle this request."
	}
	return m
}

// pageError is a client error whose page says more than its status: the
// title and message are written for the user and contain nothing internal.
type pageError struct {
	status         int
	title, message string
}

func (e *pageError) Error() string { return e.title }

// logPanic logs a recovered panic with its stack; the error handler then
// answers 500.
func (h *Handler) logPanic(c *fiber.Ctx, e any) {
	h.log.Error("panic", "method", c.Method(), "path", c.Path(), "panic", fmt.Sprint(e), "stack", string(debug.Stack()))
}
