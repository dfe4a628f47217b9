package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/dashboard/password"
	"github.com/verityhq/verity/storage"
)

// Session and sign-in limits.
const (
	// sessionLifetime is how long a sign-in lasts (absolute, not sliding).
	sessionLifetime = 7 * 24 * time.Hour
	// verifySlots bounds concurrent argon2id runs (64 MiB each, see
	// package password); more requests wait for a slot.
	verifySlots = 2
	// verifyWait is how long a request waits for a slot before 503.
	verifyWait = 10 * time.Second
)

// principal is the signed-in user of a request and their memberships.
type principal struct {
	user        storage.User
	sessionHash string
	roles       map[uuid.UUID]storage.Role // tenant → role
}

// localsPrincipal is the fiber.Ctx Locals key of the request's principal.
const localsPrincipal = "verity.principal"

func principalOf(c *fiber.Ctx) *principal {
	p, _ := c.Locals(localsPrincipal).(*principal)
	return p
}

// authenticator bounds password hashing and holds the hash that unknown
// emails are checked against, so that a wrong email takes as long as a
// wrong password and answers reveal no accounts.
type authenticator struct {
	slots     chan struct{}
	dummyOnce sync.Once
	dummy     string
}

func newAuthenticator() *authenticator {
	return &authenticator{slots: make(chan struct{}, verifySlots)}
}

// errBusy means every hashing slot stayed taken for verifyWait.
var errBusy = fiber.NewError(fiber.StatusServiceUnavailable, "busy")

// withSlot runs f while holding one of the hashing slots.
func (a *authenticator) withSlot(ctx context.Context, f func() error) error {
	t := time.NewTimer(verifyWait)
	defer t.Stop()
	select {
	case a.slots <- struct{}{}:
	case <-t.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-a.slots }()
	return f()
}

// check reports whether pw is u's password; a nil u (no such account, or
// disabled) is checked against a dummy hash and is always false.
func (a *authenticator) check(ctx context.Context, u *storage.User, pw string) (bool, error) {
	var ok bool
	err := a.withSlot(ctx, func() error {
		if u == nil {
			a.dummyOnce.Do(func() { a.dummy, _ = password.Hash("no account has this password") })
			_, _ = password.Verify(pw, a.dummy)
			return nil
		}
		var err error
		ok, err = password.Verify(pw, u.PasswordHash)
		return err
	})
	return ok, err
}

// hash hashes a new password within a slot.
func (a *authenticator) hash(ctx context.Context, pw string) (string, error) {
	var h string
	err := a.withSlot(ctx, func() error {
		var err error
		h, err = password.Hash(pw)
		return err
	})
	return h, err
}

// newSecret returns a random token with prefix and its stored hash.
func newSecret(prefix string) (token, hash string) {
	var b [32]byte
	// crypto/rand.Read never fails (Go 1.24+).
	_, _ = rand.Read(b[:])
	token = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashSecret(token)
}

// hashSecret is the hex SHA-256 under which a token is stored. A token has
// 256 random bits, so a fast hash is enough: there is nothing to guess.
func hashSecret(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// sessionCookie is the cookie's name: with the __Host- prefix when the
// dashboard is served over https, which browsers accept only with Secure,
// Path=/ and no Domain, so that no sibling subdomain can plant or shadow it.
func (h *Handler) sessionCookie() string {
	if h.httpsOnly() {
		return "__Host-verity_session"
	}
	return "verity_session"
}

// secureCookies reports whether cookies get the Secure attribute: when the
// public URL is https or this request came over TLS.
func (h *Handler) secureCookies(c *fiber.Ctx) bool {
	return h.httpsOnly() || c.Secure()
}

// startSession signs u in: a new session row and its cookie.
func (h *Handler) startSession(c *fiber.Ctx, u storage.User) error {
	token, hash := newSecret("")
	now := h.now().UTC()
	if err := h.store.CreateSession(c.UserContext(), storage.Session{Hash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(sessionLifetime)}); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: h.sessionCookie(), Value: token, Path: "/", Expires: now.Add(sessionLifetime),
		Secure: h.secureCookies(c), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
	// A new token for the signed-in page: one fixed before sign-in (by a
	// planted cookie) must not survive it.
	return rotateCSRF(c)
}

// endSessionCookie tells the browser to forget the session cookie.
func (h *Handler) endSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: h.sessionCookie(), Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		Secure: h.secureCookies(c), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// loadSession finds the request's principal from the session cookie, if
// any; an unknown, expired or revoked session is just no principal.
func (h *Handler) loadSession(c *fiber.Ctx) error {
	token := c.Cookies(h.sessionCookie())
	if token == "" || len(token) > 100 {
		return c.Next()
	}
	ctx := c.UserContext()
	hash := hashSecret(token)
	sess, err := h.store.SessionByHash(ctx, hash, h.now())
	if errors.Is(err, storage.ErrNotFound) || (err == nil && sess.Pending) {
		h.endSessionCookie(c)
		return c.Next()
	} else if err != nil {
		return err
	}
	u, err := h.store.UserByID(ctx, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && u.Disabled) {
		h.endSessionCookie(c)
		return c.Next()
	} else if err != nil {
		return err
	}
	ms, err := h.store.MembershipsOfUser(ctx, u.ID)
	if err != nil {
		return err
	}
	p := &principal{user: u, sessionHash: hash, roles: map[uuid.UUID]storage.Role{}}
	for _, m := range ms {
		p.roles[m.TenantID] = m.Role
	}
	c.Locals(localsPrincipal, p)
	return c.Next()
}

// requireUser sends a visitor without a session to the sign-in page.
func (h *Handler) requireUser(c *fiber.Ctx) error {
	if principalOf(c) == nil {
		if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
			return c.Redirect("/login", fiber.StatusSeeOther)
		}
		return &pageError{status: fiber.StatusUnauthorized, title: "Signed out", message: "Your session has ended. Sign in again, then repeat what you were doing."}
	}
	return c.Next()
}

// networkOf is the client's network for throttling (abuse.ClientPrefix:
// the /24 or /48 around ip, as the collector counts it).
func networkOf(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return "invalid"
	}
	p, ok := abuse.ClientPrefix(addr)
	if !ok {
		return "invalid"
	}
	return p.String()
}

// normaliseEmail is how emails are compared and stored.
func normaliseEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// actor is the audit log's name for the principal.
func actor(u storage.User) string { return fmt.Sprintf("user:%s", u.ID) }
