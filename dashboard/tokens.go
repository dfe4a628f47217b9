package dashboard

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// apiTokenPrefix marks Verity stats API tokens, so secret scanners and
// people recognise a leaked one.
const apiTokenPrefix = "vt_"

func (h *Handler) tokensModel(c *fiber.Ctx) (views.Tokens, map[uuid.UUID]storage.Site, error) {
	ctx := c.UserContext()
	t := tenantOf(c)
	m := views.Tokens{Chrome: chromeOf(c, "API tokens · "+t.Name), TenantID: t.ID.String(), TenantName: t.Name, CanManage: canManage(roleOf(c))}
	sites, err := h.store.Sites(ctx, storage.SiteFilter{TenantID: t.ID})
	if err != nil {
		return m, nil, err
	}
	for _, s := range sites {
		m.Sites = append(m.Sites, views.Option{Value: s.ID.String(), Label: s.Domain})
	}
	byID := sitesByID(sites)
	tokens, err := h.store.APITokens(ctx, t.ID)
	if err != nil {
		return m, nil, err
	}
	for _, tok := range tokens {
		var domains []string
		for _, id := range tok.SiteIDs {
			if s, ok := byID[id]; ok {
				domains = append(domains, s.Domain)
			}
		}
		m.List = append(m.List, views.TokenRow{ID: tok.ID.String(), Name: tok.Name, Sites: strings.Join(domains, ", "), Created: tok.CreatedAt.Format("2 Jan 2006")})
	}
	return m, byID, nil
}

func (h *Handler) tokensPage(c *fiber.Ctx) error {
	m, _, err := h.tokensModel(c)
	if err != nil {
		return err
	}
	return render(c, views.TokensPage(m))
}

// createToken makes a read-only stats API token for some of the tenant's
// sites and shows it in this response only; the store keeps its hash.
func (h *Handler) createToken(c *fiber.Ctx) error {
	t := tenantOf(c)
	m, byID, err := h.tokensModel(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	var ids []uuid.UUID
	for _, v := range c.Request().PostArgs().PeekMulti("site") {
		id, err := uuid.ParseBytes(v)
		if _, ok := byID[id]; err != nil || !ok {
			// Another tenant's site, or none: the same answer as any
			// other bad choice.
			m.Error = "Choose sites of this team only."
			break
		}
		ids = append(ids, id)
	}
	switch {
	case m.Error != "":
	case name == "" || len(name) > 100:
		m.Error = "Give the token a name of 1 to 100 characters, e.g. where it is used."
	case len(ids) == 0:
		m.Error = "Choose at least one site the token may read."
	}
	if m.Error != "" {
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, views.TokensPage(m))
	}
	token, hash := newSecret(apiTokenPrefix)
	tok := storage.APIToken{ID: uuid.New(), TenantID: t.ID, Name: name, Hash: hash, SiteIDs: ids, CreatedBy: principalOf(c).user.ID, CreatedAt: h.now()}
	if err := h.store.PutAPIToken(c.UserContext(), tok); err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "api_token.create", tok.ID.String(), name); err != nil {
		return err
	}
	if m, _, err = h.tokensModel(c); err != nil {
		return err
	}
	m.NewToken = token
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.TokensPage(m))
}

func (h *Handler) revokeToken(c *fiber.Ctx) error {
	t := tenantOf(c)
	id, err := uuid.Parse(c.Params("token"))
	if err != nil {
		return fiber.ErrNotFound
	}
	tok, err := h.store.APITokenByID(c.UserContext(), t.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fiber.ErrNotFound
	} else if err != nil {
		return err
	}
	tok.Revoked = true
	if err := h.store.PutAPIToken(c.UserContext(), tok); err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "api_token.revoke", tok.ID.String(), tok.Name); err != nil {
		return err
	}
	return c.Redirect("/tenants/"+t.ID.String()+"/tokens", fiber.StatusSeeOther)
}
