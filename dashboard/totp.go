package dashboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// Two-factor sign-in with TOTP (RFC 6238: 6 digits, 30-second steps,
// SHA-1, which every authenticator app supports), through pquerna/otp.
const (
	totpPeriod = 30
	// totpSkew accepts the codes of the step before and after the current
	// one, for clocks that drift and codes typed late.
	totpSkew = 1
	// pendingLifetime is how long a sign-in waits for its code.
	pendingLifetime = 5 * time.Minute
	// totpFailuresMax is how many wrong codes one account may send per
	// throttleWindow before the code step answers 429.
	totpFailuresMax = 5
	totpIssuer      = "Verity"
)

// matchStep returns the step (of now-skew..now+skew) whose code is code.
func matchStep(secret, code string, now time.Time) (uint64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	step := uint64(now.Unix() / totpPeriod)
	for s := step - totpSkew; s <= step+totpSkew; s++ {
		ok, err := hotp.ValidateCustom(code, s, secret, hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err == nil && ok {
			return s, true
		}
	}
	return 0, false
}

// useCode checks code against the user's key and records its step, so the
// same code (or an older one) never works again. It reports false for a
// wrong, reused or malformed code.
//
// h.totpMu makes the check and the record one step, so that two concurrent
// requests cannot both use one code.
func (h *Handler) useCode(ctx context.Context, k storage.TOTP, code string) (bool, error) {
	h.totpMu.Lock()
	defer h.totpMu.Unlock()
	current, err := h.store.TOTPOf(ctx, k.UserID)
	if err != nil {
		return false, err
	}
	if current.Secret != k.Secret {
		return false, nil // replaced meanwhile
	}
	step, ok := matchStep(current.Secret, code, h.now())
	if !ok || step <= current.LastStep {
		return false, nil
	}
	current.LastStep = step
	current.Enabled = k.Enabled
	return true, h.store.PutTOTP(ctx, current)
}

// enabledTOTP returns the user's key if two-factor sign-in is on.
func (h *Handler) enabledTOTP(ctx context.Context, u storage.User) (storage.TOTP, bool, error) {
	k, err := h.store.TOTPOf(ctx, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return k, false, nil
	}
	return k, err == nil && k.Enabled, err
}

// pendingCookie names the cookie of a sign-in waiting for its code.
func (h *Handler) pendingCookie() string {
	if h.httpsOnly() {
		return "__Host-verity_pending"
	}
	return "verity_pending"
}

// startPending records that u passed the password and must send a code.
func (h *Handler) startPending(c *fiber.Ctx, u storage.User) error {
	token, hash := newSecret("")
	now := h.now().UTC()
	if err := h.store.CreateSession(c.UserContext(), storage.Session{Hash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(pendingLifetime), Pending: true}); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: h.pendingCookie(), Value: token, Path: "/", Expires: now.Add(pendingLifetime),
		Secure: h.secureCookies(c), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	return c.Redirect("/login/code", fiber.StatusSeeOther)
}

// localsPending is the Locals key of the pending sign-in's session.
const localsPending = "verity.pending"

// requirePending finds the sign-in waiting for a code, or sends the
// browser back to the password step.
func (h *Handler) requirePending(c *fiber.Ctx) error {
	token := c.Cookies(h.pendingCookie())
	var sess storage.Session
	err := storage.ErrNotFound
	if token != "" && len(token) <= 100 {
		sess, err = h.store.SessionByHash(c.UserContext(), hashSecret(token), h.now())
	}
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !sess.Pending) {
		if c.Method() == fiber.MethodGet {
			return c.Redirect("/login", fiber.StatusSeeOther)
		}
		return &pageError{status: fiber.StatusUnauthorized, title: "Sign in again", message: "The sign-in waited too long for its code. Enter your password again."}
	} else if err != nil {
		return err
	}
	c.Locals(localsPending, sess)
	return c.Next()
}

func (h *Handler) codePage(c *fiber.Ctx) error {
	return render(c, views.CodePage(views.Code{Chrome: chromeOf(c, "Two-factor code")}))
}

// code finishes a two-factor sign-in: a right code ends the pending
// sign-in and starts the session.
func (h *Handler) code(c *fiber.Ctx) error {
	ctx := c.UserContext()
	pending := c.Locals(localsPending).(storage.Session)
	u, err := h.store.UserByID(ctx, pending.UserID)
	if err != nil {
		return err
	}
	k, on, err := h.enabledTOTP(ctx, u)
	if err != nil {
		return err
	}
	ok := false
	if on && !u.Disabled {
		if ok, err = h.useCode(ctx, k, c.FormValue("code")); err != nil {
			return err
		}
	}
	if !ok {
		if err := h.store.Audit(ctx, storage.AuditEntry{Actor: actor(u), Action: "login.code_failed", Target: u.ID.String(), Detail: u.Email}); err != nil {
			return err
		}
		c.Status(fiber.StatusUnauthorized)
		return render(c, views.CodePage(views.Code{Chrome: chromeOf(c, "Two-factor code"), Error: "The code is wrong or was already used. Enter the current code from your app."}))
	}
	if err := h.store.RevokeSession(ctx, pending.Hash); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: h.pendingCookie(), Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		Secure: h.secureCookies(c), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	return h.finishLogin(c, u, "with a two-factor code")
}

// setupTOTP makes a new key (not yet enabled) and shows it once, as a QR
// code and as text, with the form that confirms it.
func (h *Handler) setupTOTP(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := principalOf(c).user
	if _, on, err := h.enabledTOTP(ctx, u); err != nil {
		return err
	} else if on {
		return &pageError{status: fiber.StatusConflict, title: "Already on", message: "Two-factor sign-in is already on. Turn it off first to use a new key."}
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Email, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return err
	}
	if err := h.store.PutTOTP(ctx, storage.TOTP{UserID: u.ID, Secret: key.Secret(), CreatedAt: h.now()}); err != nil {
		return err
	}
	img, err := key.Image(220, 220)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	m, err := h.accountModel(c)
	if err != nil {
		return err
	}
	m.TOTPSetup = &views.TOTPSetup{Secret: key.Secret(), QR: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.AccountPage(m))
}

// enableTOTP turns two-factor sign-in on once a code from the new key
// checks out.
func (h *Handler) enableTOTP(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := principalOf(c).user
	k, err := h.store.TOTPOf(ctx, u.ID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && k.Enabled) {
		return c.Redirect("/account", fiber.StatusSeeOther)
	} else if err != nil {
		return err
	}
	k.Enabled = true
	ok, err := h.useCode(ctx, k, c.FormValue("code"))
	if err != nil {
		return err
	}
	if !ok {
		m, err := h.accountModel(c)
		if err != nil {
			return err
		}
		m.TOTPError = "That code did not match. Set up again and enter the code your app shows."
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, views.AccountPage(m))
	}
	if err := h.store.Audit(ctx, storage.AuditEntry{Actor: actor(u), Action: "totp.enable", Target: u.ID.String()}); err != nil {
		return err
	}
	return c.Redirect("/account?done=totp-on", fiber.StatusSeeOther)
}

// disableTOTP turns two-factor sign-in off; it asks for the password, so a
// session left open is not enough.
func (h *Handler) disableTOTP(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := principalOf(c).user
	ok, err := h.auth.check(ctx, &u, c.FormValue("password"))
	if err != nil {
		return err
	}
	if !ok {
		m, err := h.accountModel(c)
		if err != nil {
			return err
		}
		m.TOTPError = "The password is wrong; two-factor sign-in stays on."
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, views.AccountPage(m))
	}
	if err := h.store.PutTOTP(ctx, storage.TOTP{UserID: u.ID, CreatedAt: h.now()}); err != nil {
		return err
	}
	if err := h.store.Audit(ctx, storage.AuditEntry{Actor: actor(u), Action: "totp.disable", Target: u.ID.String()}); err != nil {
		return err
	}
	return c.Redirect("/account?done=totp-off", fiber.StatusSeeOther)
}
