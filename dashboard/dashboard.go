// Package dashboard owns the tenant-facing web application: sign-in,
// sessions, site pages and the read-only stats API. Every route and query is
// scoped to the signed-in user's tenants. It never imports the collector.
package dashboard

import (
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Handler serves the dashboard's routes.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// New returns the dashboard's handler.
func New(cfg Config, log *slog.Logger) *Handler {
	return &Handler{cfg: cfg, log: log}
}

// App builds the dashboard's Fiber app.
func (h *Handler) App() *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "verity-dashboard",
		BodyLimit:             256 << 10,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
	})
	app.Use(securityHeaders)
	h.Register(app)
	return app
}

// Register adds the dashboard's routes.
func (h *Handler) Register(r fiber.Router) {
	r.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	r.Get("/", h.placeholder)
}

func securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	c.Set("X-Frame-Options", "DENY")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	return c.Next()
}

// placeholder stands in until the dashboard lands; it says so plainly.
func (h *Handler) placeholder(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Verity</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>Verity</h1><p>The dashboard (sign-in, site statistics) is not built yet.
Until it is, query ClickHouse directly: see docs/schema.md for the tables and example queries.</p>
</body></html>`)
}
