package dashboard

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/dashboard/password"
	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// inviteLifetime is how long an invite link works.
const inviteLifetime = 7 * 24 * time.Hour

func (h *Handler) membersModel(c *fiber.Ctx) (views.Members, error) {
	ctx := c.UserContext()
	t, role := tenantOf(c), roleOf(c)
	m := views.Members{Chrome: chromeOf(c, "Members · "+t.Name), TenantID: t.ID.String(), TenantName: t.Name,
		CanManage: canManage(role), IsOwner: role == storage.RoleOwner, Me: principalOf(c).user.ID.String()}
	members, err := h.store.MembersOfTenant(ctx, t.ID)
	if err != nil {
		return m, err
	}
	for _, mb := range members {
		m.Members = append(m.Members, views.MemberRow{UserID: mb.UserID.String(), Email: mb.Email, Name: mb.Name, Role: string(mb.Role),
			Editable: m.CanManage && (role == storage.RoleOwner || mb.Role != storage.RoleOwner)})
	}
	invites, err := h.store.PendingInvites(ctx, t.ID, h.now())
	if err != nil {
		return m, err
	}
	for _, inv := range invites {
		m.Invites = append(m.Invites, views.InviteRow{ID: inv.ID.String(), Email: inv.Email, Role: string(inv.Role), Expires: inv.ExpiresAt.Format("2 Jan 2006 15:04 UTC")})
	}
	return m, nil
}

func (h *Handler) membersPage(c *fiber.Ctx) error {
	m, err := h.membersModel(c)
	if err != nil {
		return err
	}
	return render(c, views.MembersPage(m))
}

// assignable reports whether someone with role by may give role r: owners
// any role, admins admin or viewer.
func assignable(by, r storage.Role) bool {
	return r.Valid() && (by == storage.RoleOwner || r != storage.RoleOwner)
}

// invite makes an invite link, shown once in the response.
func (h *Handler) invite(c *fiber.Ctx) error {
	t := tenantOf(c)
	email := normaliseEmail(c.FormValue("email"))
	role := storage.Role(c.FormValue("role"))
	m, err := h.membersModel(c)
	if err != nil {
		return err
	}
	switch {
	case !validEmail(email):
		m.Error = "Enter one email address, like name@example.com."
	case !assignable(roleOf(c), role):
		m.Error = "Choose a role you may give: admins invite admins and viewers; owners also owners."
	}
	if m.Error != "" {
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, views.MembersPage(m))
	}
	inv, link, err := h.makeInvite(c, t.ID, email, role)
	if err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "member.invite", inv.ID.String(), email+" as "+string(role)); err != nil {
		return err
	}
	if m, err = h.membersModel(c); err != nil {
		return err
	}
	m.InviteLink = link
	m.InviteEmail = email
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.MembersPage(m))
}

// makeInvite stores a pending invite of email to tenant with role, made by
// the signed-in user, and returns it with its link: the token is in the
// link only (the store keeps its hash), so show it once.
func (h *Handler) makeInvite(c *fiber.Ctx, tenant uuid.UUID, email string, role storage.Role) (storage.Invite, string, error) {
	token, hash := newSecret("")
	now := h.now().UTC()
	inv := storage.Invite{ID: uuid.New(), Hash: hash, TenantID: tenant, Email: email, Role: role, CreatedBy: principalOf(c).user.ID,
		CreatedAt: now, ExpiresAt: now.Add(inviteLifetime), State: storage.InvitePending}
	if err := h.store.PutInvite(c.UserContext(), inv); err != nil {
		return inv, "", err
	}
	return inv, strings.TrimRight(h.cfg.PublicURL, "/") + "/invite/" + token, nil
}

func (h *Handler) revokeInvite(c *fiber.Ctx) error {
	t := tenantOf(c)
	id, err := uuid.Parse(c.Params("invite"))
	if err != nil {
		return fiber.ErrNotFound
	}
	inv, err := h.store.InviteByID(c.UserContext(), t.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fiber.ErrNotFound
	} else if err != nil {
		return err
	}
	if !assignable(roleOf(c), inv.Role) {
		return fiber.ErrForbidden
	}
	inv.State = storage.InviteRevoked
	if err := h.store.PutInvite(c.UserContext(), inv); err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "member.invite_revoke", inv.ID.String(), inv.Email); err != nil {
		return err
	}
	return c.Redirect("/tenants/"+t.ID.String()+"/members", fiber.StatusSeeOther)
}

// member finds the URL's :user among the tenant's members (404 if absent)
// and checks that the signed-in user may change them: admins may not touch
// owners, and the last owner stays.
func (h *Handler) member(c *fiber.Ctx) (storage.Member, []storage.Member, error) {
	id, err := uuid.Parse(c.Params("user"))
	if err != nil {
		return storage.Member{}, nil, fiber.ErrNotFound
	}
	members, err := h.store.MembersOfTenant(c.UserContext(), tenantOf(c).ID)
	if err != nil {
		return storage.Member{}, nil, err
	}
	for _, m := range members {
		if m.UserID == id {
			if m.Role == storage.RoleOwner && roleOf(c) != storage.RoleOwner {
				return m, members, fiber.ErrForbidden
			}
			return m, members, nil
		}
	}
	return storage.Member{}, nil, fiber.ErrNotFound
}

func owners(members []storage.Member) int {
	n := 0
	for _, m := range members {
		if m.Role == storage.RoleOwner {
			n++
		}
	}
	return n
}

var errLastOwner = &pageError{status: fiber.StatusConflict, title: "The team needs an owner",
	message: "This is the team's only owner. Make someone else an owner first."}

func (h *Handler) changeRole(c *fiber.Ctx) error {
	t := tenantOf(c)
	m, members, err := h.member(c)
	if err != nil {
		return err
	}
	role := storage.Role(c.FormValue("role"))
	if !assignable(roleOf(c), role) {
		return fiber.ErrForbidden
	}
	if m.Role == storage.RoleOwner && role != storage.RoleOwner && owners(members) == 1 {
		return errLastOwner
	}
	m.Role = role
	if err := h.store.SetMembership(c.UserContext(), m.Membership); err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "member.role", m.UserID.String(), m.Email+" → "+string(role)); err != nil {
		return err
	}
	return c.Redirect("/tenants/"+t.ID.String()+"/members", fiber.StatusSeeOther)
}

func (h *Handler) removeMember(c *fiber.Ctx) error {
	t := tenantOf(c)
	m, members, err := h.member(c)
	if err != nil {
		return err
	}
	if m.Role == storage.RoleOwner && owners(members) == 1 {
		return errLastOwner
	}
	if err := h.store.RemoveMembership(c.UserContext(), t.ID, m.UserID); err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "member.remove", m.UserID.String(), m.Email); err != nil {
		return err
	}
	if m.UserID == principalOf(c).user.ID {
		return c.Redirect("/sites", fiber.StatusSeeOther)
	}
	return c.Redirect("/tenants/"+t.ID.String()+"/members", fiber.StatusSeeOther)
}

// pendingInvite finds the invite of the URL's token; an unknown, used,
// revoked or expired token is the same 404.
func (h *Handler) pendingInvite(c *fiber.Ctx) (storage.Invite, views.InviteAccept, error) {
	token := c.Params("token")
	if len(token) > 100 {
		return storage.Invite{}, views.InviteAccept{}, fiber.ErrNotFound
	}
	ctx := c.UserContext()
	inv, err := h.store.PendingInviteByHash(ctx, hashSecret(token), h.now())
	if errors.Is(err, storage.ErrNotFound) {
		return inv, views.InviteAccept{}, &pageError{status: fiber.StatusNotFound, title: "Invite not valid",
			message: "This invite link is unknown, was already used, was withdrawn or has expired (links work for 7 days). Ask for a new one."}
	} else if err != nil {
		return inv, views.InviteAccept{}, err
	}
	t, err := h.store.TenantByID(ctx, inv.TenantID)
	if err != nil {
		return inv, views.InviteAccept{}, err
	}
	_, uerr := h.store.UserByEmail(ctx, inv.Email)
	if uerr != nil && !errors.Is(uerr, storage.ErrNotFound) {
		return inv, views.InviteAccept{}, uerr
	}
	m := views.InviteAccept{Chrome: chromeOf(c, "Join "+t.Name), TenantName: t.Name, Email: inv.Email, Role: string(inv.Role), HasAccount: uerr == nil}
	return inv, m, nil
}

func (h *Handler) invitePage(c *fiber.Ctx) error {
	_, m, err := h.pendingInvite(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.InviteAcceptPage(m))
}

// acceptInvite joins the invited email to the tenant: a new account sets
// its password here; an existing account proves it with its password.
func (h *Handler) acceptInvite(c *fiber.Ctx) error {
	ctx := c.UserContext()
	inv, m, err := h.pendingInvite(c)
	if err != nil {
		return err
	}
	fail := func(status int, msg string) error {
		m.Error = msg
		c.Status(status)
		return render(c, views.InviteAcceptPage(m))
	}
	pw := c.FormValue("password")
	var u storage.User
	if m.HasAccount {
		if u, err = h.store.UserByEmail(ctx, inv.Email); err != nil {
			return err
		}
		var known *storage.User
		if !u.Disabled {
			known = &u
		}
		ok, err := h.auth.check(ctx, known, pw)
		if err != nil {
			return err
		}
		if !ok {
			return fail(fiber.StatusUnauthorized, "The password is wrong.")
		}
	} else {
		if err := password.Validate(pw); err != nil {
			return fail(fiber.StatusUnprocessableEntity, err.Error())
		}
		if pw != c.FormValue("confirm") {
			return fail(fiber.StatusUnprocessableEntity, "The password and its confirmation differ.")
		}
		name := strings.TrimSpace(c.FormValue("name"))
		if len(name) > 200 {
			return fail(fiber.StatusUnprocessableEntity, "The name is longer than 200 characters.")
		}
		hash, err := h.auth.hash(ctx, pw)
		if err != nil {
			return err
		}
		if u, err = h.store.CreateUser(ctx, inv.Email, name, hash); err != nil {
			return err
		}
	}
	if err := h.store.SetMembership(ctx, storage.Membership{TenantID: inv.TenantID, UserID: u.ID, Role: inv.Role}); err != nil {
		return err
	}
	inv.State = storage.InviteAccepted
	if err := h.store.PutInvite(ctx, inv); err != nil {
		return err
	}
	if err := h.store.Audit(ctx, storage.AuditEntry{TenantID: inv.TenantID, Actor: actor(u), Action: "member.join", Target: u.ID.String(), Detail: inv.Email + " as " + string(inv.Role)}); err != nil {
		return err
	}
	if err := h.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect("/sites", fiber.StatusSeeOther)
}
