package dashboard

// The operator view. Operators are configured (dashboard.operators, by
// email), never a tenant role: they list every tenant with its usage,
// create tenants and invite a tenant's first owner. They see counts only;
// a tenant's statistics and settings stay with its members (siteAccess and
// tenantAccess know nothing of operators), and once a tenant has an owner,
// its owners invite everyone else, so an operator cannot make themselves a
// member of a tenant that has one.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// localsOperator marks a request whose signed-in user is an operator.
const localsOperator = "verity.operator"

// operatorRoutes adds the operator view. Everyone who is not a signed-in
// operator, signed out included, gets the 404 of a page that does not
// exist: the answer does not reveal that the view is there.
func (h *Handler) operatorRoutes(r fiber.Router) {
	op := r.Group("/operator", h.requireOperator)
	op.Get("/", h.operatorPage)
	op.Post("/tenants", h.createTenant)
	op.Post("/tenants/:tenant/invites", h.inviteFirstOwner)
}

// markOperator notes whether the signed-in user is an operator, for
// requireOperator and the navigation.
func (h *Handler) markOperator(c *fiber.Ctx) error {
	if p := principalOf(c); p != nil && h.cfg.isOperator(p.user.Email) {
		c.Locals(localsOperator, true)
	}
	return c.Next()
}

func isOperator(c *fiber.Ctx) bool {
	ok, _ := c.Locals(localsOperator).(bool)
	return ok
}

func (h *Handler) requireOperator(c *fiber.Ctx) error {
	if !isOperator(c) {
		return fiber.ErrNotFound
	}
	return c.Next()
}

// tenantSummary is one tenant's row before formatting.
type tenantSummary struct {
	tenant         storage.Tenant
	sites, members int
	owners         []string
	pendingOwners  []string
	usage          storage.Usage
}

// summarise counts a tenant's sites, members and usage; each query is
// bound to the tenant or to one of its sites.
func (h *Handler) summarise(ctx context.Context, t storage.Tenant, now time.Time) (tenantSummary, error) {
	s := tenantSummary{tenant: t}
	sites, err := h.store.Sites(ctx, storage.SiteFilter{TenantID: t.ID})
	if err != nil {
		return s, err
	}
	s.sites = len(sites)
	for _, site := range sites {
		u, err := h.store.SiteUsage(ctx, site.ID, now)
		if err != nil {
			return s, err
		}
		s.usage.Add(u)
	}
	members, err := h.store.MembersOfTenant(ctx, t.ID)
	if err != nil {
		return s, err
	}
	s.members = len(members)
	for _, m := range members {
		if m.Role == storage.RoleOwner {
			s.owners = append(s.owners, m.Email)
		}
	}
	invites, err := h.store.PendingInvites(ctx, t.ID, now)
	if err != nil {
		return s, err
	}
	for _, inv := range invites {
		if inv.Role == storage.RoleOwner {
			s.pendingOwners = append(s.pendingOwners, inv.Email)
		}
	}
	return s, nil
}

func usageRow(u storage.Usage, sites, members int) views.TenantUsage {
	return views.TenantUsage{
		Sites: strconv.Itoa(sites), Members: strconv.Itoa(members),
		Events30d: formatCount(u.Events30d), EventsMonth: formatCount(u.EventsMonth),
		Rejected30d: formatCount(u.Rejected30d), RejectedMonth: formatCount(u.RejectedMonth),
	}
}

// operatorModel is the operator view: every tenant, by name, and the sum.
func (h *Handler) operatorModel(c *fiber.Ctx) (views.Operator, error) {
	ctx := c.UserContext()
	now := h.now().UTC()
	m := views.Operator{Chrome: chromeOf(c, "Operator"), Month: now.Format("January")}
	tenants, err := h.store.Tenants(ctx)
	if err != nil {
		return m, err
	}
	var total storage.Usage
	var sites, members int
	for _, t := range tenants {
		s, err := h.summarise(ctx, t, now)
		if err != nil {
			return m, err
		}
		row := usageRow(s.usage, s.sites, s.members)
		row.ID, row.Name, row.Created = t.ID.String(), t.Name, t.CreatedAt.Format("2 Jan 2006")
		row.Owners, row.PendingOwners = s.owners, s.pendingOwners
		m.Tenants = append(m.Tenants, row)
		total.Add(s.usage)
		sites += s.sites
		members += s.members
	}
	m.Total = usageRow(total, sites, members)
	return m, nil
}

func (h *Handler) operatorPage(c *fiber.Ctx) error {
	m, err := h.operatorModel(c)
	if err != nil {
		return err
	}
	// After createTenant's redirect: name the new tenant (known ids only).
	for _, t := range m.Tenants {
		if t.ID == c.Query("created") {
			m.Notice = "Created " + t.Name + ". Invite its first owner below."
		}
	}
	return render(c, views.OperatorPage(m))
}

// operatorFormError shows the operator view again with msg at the form
// named by errorFor, answering status.
func (h *Handler) operatorFormError(c *fiber.Ctx, status int, errorFor, msg string, edit func(*views.Operator)) error {
	m, err := h.operatorModel(c)
	if err != nil {
		return err
	}
	m.Error, m.ErrorFor = msg, errorFor
	if edit != nil {
		edit(&m)
	}
	c.Status(status)
	return render(c, views.OperatorPage(m))
}

// createTenant adds a tenant (as `verity tenant create` does), refusing a
// name another tenant has, whatever its case, since people tell tenants
// apart by name.
func (h *Handler) createTenant(c *fiber.Ctx) error {
	ctx := c.UserContext()
	name := strings.TrimSpace(c.FormValue("name"))
	keep := func(m *views.Operator) { m.NewName = name }
	if name == "" || len(name) > 200 {
		return h.operatorFormError(c, fiber.StatusUnprocessableEntity, "new-tenant", "The name must be 1 to 200 characters.", keep)
	}
	tenants, err := h.store.Tenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range tenants {
		if strings.EqualFold(t.Name, name) {
			return h.operatorFormError(c, fiber.StatusConflict, "new-tenant", fmt.Sprintf("There is a tenant named %q already.", t.Name), keep)
		}
	}
	t, err := h.store.CreateTenant(ctx, name)
	if err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "tenant.create", t.ID.String(), t.Name); err != nil {
		return err
	}
	return c.Redirect("/operator?created="+t.ID.String(), fiber.StatusSeeOther)
}

// inviteFirstOwner makes an owner invite link for a tenant that has no
// owner yet and shows it once. A new link withdraws the tenant's earlier
// pending owner invites, so a link sent to the wrong address can be
// replaced. Once the tenant has an owner, its owners invite everyone else.
func (h *Handler) inviteFirstOwner(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id, err := uuid.Parse(c.Params("tenant"))
	if err != nil {
		return fiber.ErrNotFound
	}
	t, err := h.store.TenantByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fiber.ErrNotFound
	} else if err != nil {
		return err
	}
	members, err := h.store.MembersOfTenant(ctx, t.ID)
	if err != nil {
		return err
	}
	if owners(members) > 0 {
		return &pageError{status: fiber.StatusConflict, title: "The tenant has an owner",
			message: "Its owners and admins invite further members. The operator view invites only a tenant's first owner."}
	}
	email := normaliseEmail(c.FormValue("email"))
	if !validEmail(email) {
		return h.operatorFormError(c, fiber.StatusUnprocessableEntity, t.ID.String(), "Enter one email address, like name@example.com.", nil)
	}
	pending, err := h.store.PendingInvites(ctx, t.ID, h.now())
	if err != nil {
		return err
	}
	for _, inv := range pending {
		if inv.Role != storage.RoleOwner {
			continue
		}
		inv.State = storage.InviteRevoked
		if err := h.store.PutInvite(ctx, inv); err != nil {
			return err
		}
		if err := h.auditTenant(c, t.ID, "member.invite_revoke", inv.ID.String(), inv.Email+", replaced by an operator's new owner invite"); err != nil {
			return err
		}
	}
	inv, link, err := h.makeInvite(c, t.ID, email, storage.RoleOwner)
	if err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "member.invite", inv.ID.String(), email+" as owner, by an operator"); err != nil {
		return err
	}
	m, err := h.operatorModel(c)
	if err != nil {
		return err
	}
	m.InviteLink, m.InviteFor = link, email+" ("+t.Name+")"
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.OperatorPage(m))
}

// guardOperatorSignup refuses an invite link that would create the account
// of an operator's address. Accepting an invite proves nothing about who
// holds the address, so a tenant admin could otherwise invite an operator
// address that has no account yet, accept it and be an operator. Those
// accounts are made with `verity user create`; an invite to an existing
// account still works (it asks for that account's password).
func (h *Handler) guardOperatorSignup(c *fiber.Ctx) error {
	token := c.Params("token")
	if len(token) > 100 {
		return c.Next()
	}
	ctx := c.UserContext()
	inv, err := h.store.PendingInviteByHash(ctx, hashSecret(token), h.now())
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !h.cfg.isOperator(inv.Email)) {
		return c.Next() // the invite page's own answers
	} else if err != nil {
		return err
	}
	if _, err := h.store.UserByEmail(ctx, inv.Email); err == nil {
		return c.Next()
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if c.Method() == fiber.MethodPost {
		if err := h.store.Audit(ctx, storage.AuditEntry{TenantID: inv.TenantID, Actor: "anonymous", Action: "member.join_refused",
			Target: inv.ID.String(), Detail: inv.Email + ": an operator address without an account"}); err != nil {
			return err
		}
	}
	return &pageError{status: fiber.StatusForbidden, title: "Invite not usable yet",
		message: "An account for this address must first be made by whoever runs this Verity (with `verity user create`). Then open the link again."}
}
