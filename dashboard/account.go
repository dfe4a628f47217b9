package dashboard

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/dashboard/password"
	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

func (h *Handler) loginPage(c *fiber.Ctx) error {
	if principalOf(c) != nil {
		return c.Redirect("/sites", fiber.StatusSeeOther)
	}
	return render(c, views.LoginPage(views.Login{Chrome: chromeOf(c, "Sign in")}))
}

// login checks the email and password. Every failure gets the same answer
// after the same work (see authenticator.check), so it reveals no accounts;
// it is audited, and counted by the throttles in front of this handler.
func (h *Handler) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	email, pw := normaliseEmail(c.FormValue("email")), c.FormValue("password")
	u, err := h.store.UserByEmail(ctx, email)
	var known *storage.User
	if err == nil && !u.Disabled {
		known = &u
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	ok, err := h.auth.check(ctx, known, pw)
	if err != nil {
		return err
	}
	if !ok {
		target := ""
		if known != nil {
			target = known.ID.String()
		}
		if err := h.store.Audit(ctx, storage.AuditEntry{Actor: "anonymous", Action: "login.failed", Target: target, Detail: email}); err != nil {
			return err
		}
		c.Status(fiber.StatusUnauthorized)
		return render(c, views.LoginPage(views.Login{Chrome: chromeOf(c, "Sign in"), Email: email, Error: "The email address or the password is wrong."}))
	}
	if password.NeedsRehash(u.PasswordHash) {
		if u.PasswordHash, err = h.auth.hash(ctx, pw); err != nil {
			return err
		}
		if err := h.store.UpdateUser(ctx, u); err != nil {
			return err
		}
	}
	_, twoFactor, err := h.enabledTOTP(ctx, u)
	if err != nil {
		return err
	}
	if twoFactor {
		if err := h.store.Audit(ctx, storage.AuditEntry{Actor: actor(u), Action: "login.password_ok", Target: u.ID.String()}); err != nil {
			return err
		}
		return h.startPending(c, u)
	}
	return h.finishLogin(c, u, "")
}

// finishLogin audits a sign-in and starts its session.
func (h *Handler) finishLogin(c *fiber.Ctx, u storage.User, detail string) error {
	if err := h.store.Audit(c.UserContext(), storage.AuditEntry{Actor: actor(u), Action: "login.ok", Target: u.ID.String(), Detail: detail}); err != nil {
		return err
	}
	if err := h.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect("/sites", fiber.StatusSeeOther)
}

func (h *Handler) logout(c *fiber.Ctx) error {
	if err := h.store.RevokeSession(c.UserContext(), principalOf(c).sessionHash); err != nil {
		return err
	}
	h.endSessionCookie(c)
	_ = rotateCSRF(c)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

func (h *Handler) accountPage(c *fiber.Ctx) error {
	m, err := h.accountModel(c)
	if err != nil {
		return err
	}
	return render(c, views.AccountPage(m))
}

func (h *Handler) accountModel(c *fiber.Ctx) (views.Account, error) {
	p := principalOf(c)
	_, on, err := h.enabledTOTP(c.UserContext(), p.user)
	return views.Account{Chrome: chromeOf(c, "Account"), Email: p.user.Email, Name: p.user.Name, Notice: noticeFor(c.Query("done")), TOTPOn: on}, err
}

// changePassword sets a new password and ends every session of the user,
// this one included, then signs this browser in again with a new session.
func (h *Handler) changePassword(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := principalOf(c)
	m, err := h.accountModel(c)
	if err != nil {
		return err
	}
	current, next, confirm := c.FormValue("current"), c.FormValue("new"), c.FormValue("confirm")
	fail := func(msg string) error {
		m.Error = msg
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, views.AccountPage(m))
	}
	if err := password.Validate(next); err != nil {
		return fail(err.Error())
	}
	if next != confirm {
		return fail("The new password and its confirmation differ.")
	}
	ok, err := h.auth.check(ctx, &p.user, current)
	if err != nil {
		return err
	}
	if !ok {
		if err := h.store.Audit(ctx, storage.AuditEntry{Actor: actor(p.user), Action: "password.change_failed", Target: p.user.ID.String()}); err != nil {
			return err
		}
		return fail("The current password is wrong.")
	}
	u := p.user
	if u.PasswordHash, err = h.auth.hash(ctx, next); err != nil {
		return err
	}
	if err := h.store.UpdateUser(ctx, u); err != nil {
		return err
	}
	n, err := h.store.RevokeUserSessions(ctx, u.ID, "", h.now())
	if err != nil {
		return err
	}
	if err := h.store.Audit(ctx, storage.AuditEntry{Actor: actor(u), Action: "password.change", Target: u.ID.String(), Detail: strconv.Itoa(n) + " sessions ended"}); err != nil {
		return err
	}
	if err := h.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect("/account?done=password", fiber.StatusSeeOther)
}

// logoutEverywhere ends every session of the user, this one included.
func (h *Handler) logoutEverywhere(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u := principalOf(c).user
	n, err := h.store.RevokeUserSessions(ctx, u.ID, "", h.now())
	if err != nil {
		return err
	}
	if err := h.store.Audit(ctx, storage.AuditEntry{Actor: actor(u), Action: "sessions.revoke_all", Target: u.ID.String(), Detail: strconv.Itoa(n) + " sessions ended"}); err != nil {
		return err
	}
	h.endSessionCookie(c)
	_ = rotateCSRF(c)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// auditTenant appends an entry about a tenant by the signed-in user.
func (h *Handler) auditTenant(c *fiber.Ctx, tenant uuid.UUID, action, target, detail string) error {
	return h.store.Audit(c.UserContext(), storage.AuditEntry{TenantID: tenant, Actor: actor(principalOf(c).user), Action: action, Target: target, Detail: detail})
}
