package dashboard

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/google/uuid"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// Sign-in throttling: failed attempts (status >= 400) per account and per
// client network in a fixed window. Reaching a limit locks further attempts
// out until the window ends (429 with Retry-After), even with the right
// password, and is audited.
const (
	throttleWindow     = 15 * time.Minute
	accountFailuresMax = 5  // per email address
	networkFailuresMax = 30 // per /24 or /48
	// requestsPerMinute caps every page request per client network; it
	// bounds the work (and the CSRF tokens in memory) one network causes.
	requestsPerMinute = 600
)

// routes adds every page. CSRF protection and the session lookup apply to
// all of them; pages that need a user add requireUser, site pages
// siteAccess, team pages tenantAccess, writes requireRole, and the
// operator view requireOperator (see operator.go).
func (h *Handler) routes(r fiber.Router) {
	// The Stats API first: its paths end there, before the pages'
	// cookies, CSRF tokens and HTML errors (see apiRoutes).
	h.apiRoutes(r)
	r.Use(dropRateLimitHeaders, limiter.New(limiter.Config{
		Max:          requestsPerMinute,
		Expiration:   time.Minute,
		KeyGenerator: func(c *fiber.Ctx) string { return networkOf(c.IP()) },
		LimitReached: func(*fiber.Ctx) error { return fiber.ErrTooManyRequests },
	}), h.csrfProtection(), h.loadSession)
	r.Use(h.markOperator)
	h.operatorRoutes(r)

	r.Get("/", h.home)
	r.Get("/login", h.loginPage)
	r.Post("/login", h.throttle("network", networkFailuresMax, func(c *fiber.Ctx) string { return networkOf(c.IP()) }),
		h.throttle("account", accountFailuresMax, func(c *fiber.Ctx) string { return normaliseEmail(c.FormValue("email")) }),
		h.login)
	r.Get("/login/code", h.requirePending, h.codePage)
	r.Post("/login/code", h.requirePending,
		h.throttle("network", networkFailuresMax, func(c *fiber.Ctx) string { return networkOf(c.IP()) }),
		h.throttle("code", totpFailuresMax, func(c *fiber.Ctx) string { return c.Locals(localsPending).(storage.Session).UserID.String() }),
		h.code)
	r.Post("/logout", h.requireUser, h.logout)
	r.Get("/invite/:token", h.guardOperatorSignup, h.invitePage)
	r.Post("/invite/:token", h.throttle("network", networkFailuresMax, func(c *fiber.Ctx) string { return networkOf(c.IP()) }), h.guardOperatorSignup, h.acceptInvite)

	r.Get("/account", h.requireUser, h.accountPage)
	r.Post("/account/password", h.requireUser, h.changePassword)
	r.Post("/account/sessions/revoke", h.requireUser, h.logoutEverywhere)
	r.Post("/account/totp/setup", h.requireUser, h.setupTOTP)
	r.Post("/account/totp/enable", h.requireUser, h.enableTOTP)
	r.Post("/account/totp/disable", h.requireUser, h.disableTOTP)

	r.Get("/sites", h.requireUser, h.sitesPage)

	site := r.Group("/sites/:site", h.requireUser, h.siteAccess)
	site.Get("/", h.overview)
	site.Get("/export/:panel.csv", h.export)
	site.Get("/realtime", h.realtime)
	site.Get("/settings", h.settingsPage)
	admin := requireRole(storage.RoleAdmin)
	site.Post("/settings", admin, h.saveSettings)
	site.Post("/keys/public", admin, h.rotatePublicKey)
	site.Post("/keys/secret", admin, h.rotateSecretKey)
	site.Get("/rules", h.protectionPage)
	site.Post("/rules", admin, h.addRule)
	site.Post("/rules/:rule/remove", admin, h.removeRule)
	site.Post("/quarantines", admin, h.addQuarantine)
	site.Post("/quarantines/:quarantine/revoke", admin, h.revokeQuarantine)
	site.Get("/export", h.exportPage)
	site.Get("/export/events", h.exportEvents)

	team := r.Group("/tenants/:tenant", h.requireUser, h.tenantAccess)
	team.Post("/sites", admin, h.createSite)
	team.Get("/members", h.membersPage)
	team.Post("/invites", admin, h.invite)
	team.Post("/invites/:invite/revoke", admin, h.revokeInvite)
	team.Post("/members/:user/role", admin, h.changeRole)
	team.Post("/members/:user/remove", admin, h.removeMember)
	team.Get("/tokens", h.tokensPage)
	team.Post("/tokens", admin, h.createToken)
	team.Post("/tokens/:token/revoke", admin, h.revokeToken)
}

// dropRateLimitHeaders removes the X-RateLimit-* headers Fiber's limiter
// adds: they describe the server's configuration to anyone, and browsers
// have no use for them (a refusal carries Retry-After).
func dropRateLimitHeaders(c *fiber.Ctx) error {
	err := c.Next()
	for _, h := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"} {
		c.Response().Header.Del(h)
	}
	return err
}

// home sends a visitor to their sites, or to sign in.
func (h *Handler) home(c *fiber.Ctx) error {
	if principalOf(c) == nil {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return c.Redirect("/sites", fiber.StatusSeeOther)
}

// throttle counts failed requests (status >= 400) per key in a window of
// throttleWindow and answers 429 with Retry-After once max have failed.
// Fiber's limiter does the counting; reaching the limit is audited.
func (h *Handler) throttle(scope string, limit int, key func(*fiber.Ctx) string) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:                    limit,
		Expiration:             throttleWindow,
		SkipSuccessfulRequests: true,
		KeyGenerator:           func(c *fiber.Ctx) string { return scope + ":" + key(c) },
		LimitReached: func(c *fiber.Ctx) error {
			detail := "too many failed attempts from one network"
			switch scope {
			case "account":
				detail = "account locked after failed attempts: " + normaliseEmail(c.FormValue("email"))
			case "code":
				detail = "two-factor codes locked after failed attempts: user " + key(c)
			}
			if err := h.store.Audit(c.UserContext(), storage.AuditEntry{Actor: "anonymous", Action: "login.throttled", Target: scope, Detail: detail}); err != nil {
				h.log.Error("audit", "err", err)
			}
			return &pageError{status: fiber.StatusTooManyRequests, title: "Too many attempts",
				message: "There were too many failed attempts. Wait " + c.GetRespHeader(fiber.HeaderRetryAfter) + " seconds, then try again."}
		},
	})
}

// siteAccess loads the :site of the URL and the user's role in its tenant.
// A site id that is malformed, unknown, deleted or another tenant's is the
// same 404: the answer reveals nothing about other tenants' sites.
func (h *Handler) siteAccess(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("site"))
	if err != nil {
		return fiber.ErrNotFound
	}
	s, err := h.store.SiteByID(c.UserContext(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return fiber.ErrNotFound
	} else if err != nil {
		return err
	}
	role, ok := principalOf(c).roles[s.TenantID]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Locals(localsSite, s)
	c.Locals(localsRole, role)
	return c.Next()
}

// tenantAccess checks that the user is a member of the URL's :tenant, with
// the same 404 for every other case.
func (h *Handler) tenantAccess(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("tenant"))
	if err != nil {
		return fiber.ErrNotFound
	}
	role, ok := principalOf(c).roles[id]
	if !ok {
		return fiber.ErrNotFound
	}
	t, err := h.store.TenantByID(c.UserContext(), id)
	if errors.Is(err, storage.ErrNotFound) {
		return fiber.ErrNotFound
	} else if err != nil {
		return err
	}
	c.Locals(localsTenant, t)
	c.Locals(localsRole, role)
	return c.Next()
}

const (
	localsSite   = "verity.site"
	localsTenant = "verity.tenant"
	localsRole   = "verity.role"
)

// siteOf, tenantOf and roleOf read what siteAccess and tenantAccess found.
func siteOf(c *fiber.Ctx) storage.Site     { return c.Locals(localsSite).(storage.Site) }
func tenantOf(c *fiber.Ctx) storage.Tenant { return c.Locals(localsTenant).(storage.Tenant) }
func roleOf(c *fiber.Ctx) storage.Role     { return c.Locals(localsRole).(storage.Role) }

// canManage reports whether role may change a tenant's sites and members.
func canManage(role storage.Role) bool { return role == storage.RoleOwner || role == storage.RoleAdmin }

// chromeOf is the page frame's model for this request.
func chromeOf(c *fiber.Ctx, title string) views.Chrome {
	ch := views.Chrome{Title: title, CSRF: csrfToken(c), Operator: isOperator(c)}
	if p := principalOf(c); p != nil {
		ch.User = p.user.Email
	}
	return ch
}

// requireRole answers 403 unless the user's role (set by siteAccess or
// tenantAccess) is at least min: owner > admin > viewer.
func requireRole(min storage.Role) fiber.Handler {
	rank := map[storage.Role]int{storage.RoleViewer: 1, storage.RoleAdmin: 2, storage.RoleOwner: 3}
	return func(c *fiber.Ctx) error {
		if rank[roleOf(c)] < rank[min] {
			return fiber.ErrForbidden
		}
		return c.Next()
	}
}
