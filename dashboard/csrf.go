package dashboard

import (
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/csrf"
)

// csrfField is the hidden form field (and csrf.HeaderName the header, for
// htmx requests) that carries the token.
const csrfField = "_csrf"

// localsCSRF is the Locals key of the request's CSRF token.
const localsCSRF = "verity.csrf"

// csrfLifetime is how long an unused form token stays valid.
const csrfLifetime = 12 * time.Hour

// csrfProtection is Fiber's CSRF middleware: every request that is not
// GET, HEAD, OPTIONS or TRACE must carry, in the form field or the header,
// the token the server issued in the cookie (a double-submit cookie that
// the server also remembers, so a token it never issued fails), and over
// https the Referer must be this host. Cookies are SameSite=Lax and
// HttpOnly (the pages carry the token in their forms, so scripts never need
// the cookie), Secure and __Host- prefixed over https (a sibling subdomain
// cannot plant one). The token is rotated at sign-in (rotateCSRF).
// Tokens are kept in this process's memory: after a restart, an open form
// is refused once and works after a reload; several dashboard processes
// behind one address need sticky sessions.
func (h *Handler) csrfProtection() fiber.Handler {
	name := "verity_csrf"
	if h.httpsOnly() {
		name = "__Host-verity_csrf"
	}
	fromForm, fromHeader := csrf.CsrfFromForm(csrfField), csrf.CsrfFromHeader(csrf.HeaderName)
	return csrf.New(csrf.Config{
		CookieName:     name,
		CookiePath:     "/",
		CookieSecure:   h.httpsOnly(),
		CookieHTTPOnly: true,
		CookieSameSite: fiber.CookieSameSiteLaxMode,
		Expiration:     csrfLifetime,
		ContextKey:     localsCSRF,
		KeyGenerator: func() string {
			var b [32]byte
			_, _ = rand.Read(b[:]) // never fails (Go 1.24+)
			return base64.RawURLEncoding.EncodeToString(b[:])
		},
		Extractor: func(c *fiber.Ctx) (string, error) {
			if tok, err := fromForm(c); err == nil {
				return tok, nil
			}
			return fromHeader(c)
		},
		ErrorHandler: func(*fiber.Ctx, error) error {
			return &pageError{status: fiber.StatusForbidden, title: "Form expired",
				message: "This form has expired or did not come from this dashboard. Go back, reload the page and try again."}
		},
	})
}

// rotateCSRF drops the request's CSRF token; the next page gets a new one.
func rotateCSRF(c *fiber.Ctx) error {
	if handler, ok := c.Locals(csrf.ConfigDefault.HandlerContextKey).(*csrf.CSRFHandler); ok {
		// An error means the client sent no token cookie: nothing to drop.
		_ = handler.DeleteToken(c)
	}
	return nil
}

// csrfToken is the token to put into the page's forms.
func csrfToken(c *fiber.Ctx) string {
	tok, _ := c.Locals(localsCSRF).(string)
	return tok
}
