package dashboard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/script"
	"github.com/verityhq/verity/storage"
)

// sitesPage lists the user's teams and their sites.
func (h *Handler) sitesPage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p := principalOf(c)
	m := views.Sites{Chrome: chromeOf(c, "Sites")}
	for id, role := range p.roles {
		t, err := h.store.TenantByID(ctx, id)
		if err != nil {
			return err
		}
		sites, err := h.store.Sites(ctx, storage.SiteFilter{TenantID: id})
		if err != nil {
			return err
		}
		team := views.Team{ID: t.ID.String(), Name: t.Name, Role: string(role), CanManage: canManage(role)}
		for _, s := range sites {
			team.Sites = append(team.Sites, views.SiteRow{ID: s.ID.String(), Name: s.Name, Domain: s.Domain, Snippet: h.snippet(s)})
		}
		m.Teams = append(m.Teams, team)
	}
	slices.SortFunc(m.Teams, func(a, b views.Team) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return render(c, views.SitesPage(m))
}

// snippet is the tag a client pastes into their pages: the collector's
// script with its Subresource Integrity value, which pins this release of
// the script (after an upgrade, the snippet must be copied again). It is
// shown as text, which the templates escape.
func (h *Handler) snippet(s storage.Site) string {
	base := strings.TrimRight(h.deps.CollectorURL, "/")
	return fmt.Sprintf(`<script defer src="%s/s/v1.js" integrity="%s" crossorigin="anonymous" data-site="%s"></script>`,
		base, script.V1SRI(), s.PublicKey)
}

func (h *Handler) settingsModel(c *fiber.Ctx, s storage.Site) views.Settings {
	role := roleOf(c)
	return views.Settings{
		Chrome:          chromeOf(c, "Settings · "+s.Name),
		Site:            siteHeader(s, role),
		Name:            s.Name,
		Domain:          s.Domain,
		Origins:         strings.Join(s.AllowedOrigins, "\n"),
		Retention:       strconv.Itoa(int(s.RetentionDays)),
		DNT:             s.RespectDNT,
		Snippet:         h.snippet(s),
		SRI:             script.V1SRI(),
		PublicKey:       s.PublicKey,
		SecretVersion:   int(s.SecretVersion),
		CanRotateSecret: h.deps.Keys != nil,
		Notice:          noticeFor(c.Query("done")),
	}
}

func siteHeader(s storage.Site, role storage.Role) views.SiteHeader {
	return views.SiteHeader{ID: s.ID.String(), TenantID: s.TenantID.String(), Name: s.Name, Domain: s.Domain, CanManage: canManage(role)}
}

// noticeFor is the confirmation shown after a redirect (?done=...); only
// known values show anything.
func noticeFor(done string) string {
	return map[string]string{
		"saved":      "Settings saved. Collectors pick up the change within a minute.",
		"public-key": "New public key made. Copy the snippet again: the old key stops working within a minute.",
		"password":   "Password changed. Every other session has been signed out.",
		"totp-on":    "Two-factor sign-in is on: from now on, signing in asks for a code from your app.",
		"totp-off":   "Two-factor sign-in is off.",
	}[done]
}

func (h *Handler) settingsPage(c *fiber.Ctx) error {
	return render(c, views.SettingsPage(h.settingsModel(c, siteOf(c))))
}

// maxOrigins bounds the allowed origins of one site.
const maxOrigins = 50

// saveSettings validates and stores name, domain, allowed origins,
// retention and the DNT/GPC policy, reporting every problem at once.
func (h *Handler) saveSettings(c *fiber.Ctx) error {
	s := siteOf(c)
	var errs []string
	name := strings.TrimSpace(c.FormValue("name"))
	if name == "" || len(name) > 200 {
		errs = append(errs, "The name must be 1 to 200 characters.")
	}
	domain := strings.ToLower(strings.TrimSpace(c.FormValue("domain")))
	if !storage.ValidDomain(domain) {
		errs = append(errs, fmt.Sprintf("%q is not a domain name: write it without scheme or path, e.g. example.com.", domain))
	}
	var origins []string
	for line := range strings.Lines(c.FormValue("origins")) {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		o, err := storage.NormaliseOrigin(line)
		if err != nil {
			errs = append(errs, "Allowed "+err.Error()+".")
			continue
		}
		if !slices.Contains(origins, o) {
			origins = append(origins, o)
		}
	}
	if len(origins) == 0 {
		errs = append(errs, "Allow at least one origin, e.g. https://"+domain+".")
	} else if len(origins) > maxOrigins {
		errs = append(errs, fmt.Sprintf("At most %d origins.", maxOrigins))
	}
	retention, err := strconv.ParseUint(strings.TrimSpace(c.FormValue("retention")), 10, 16)
	if err != nil {
		errs = append(errs, "Retention must be a whole number of days from 0 (keep forever) to 65535.")
	}
	if len(errs) > 0 {
		m := h.settingsModel(c, s)
		m.Name, m.Domain, m.Origins, m.Retention, m.DNT = name, domain, c.FormValue("origins"), c.FormValue("retention"), c.FormValue("dnt") == "on"
		m.Errors = errs
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, views.SettingsPage(m))
	}
	s.Name, s.Domain, s.AllowedOrigins, s.RetentionDays, s.RespectDNT = name, domain, origins, uint16(retention), c.FormValue("dnt") == "on"
	if err := h.store.PutSite(c.UserContext(), s); err != nil {
		return err
	}
	if err := h.auditTenant(c, s.TenantID, "site.update", s.ID.String(), domain); err != nil {
		return err
	}
	return c.Redirect("/sites/"+s.ID.String()+"/settings?done=saved", fiber.StatusSeeOther)
}

// createSite adds a site to the URL's tenant with fresh keys and the
// default origins (https://DOMAIN and https://*.DOMAIN), then shows its
// settings with the secret key, once. (The CLI's `site create` does the
// same from the command line.)
func (h *Handler) createSite(c *fiber.Ctx) error {
	t := tenantOf(c)
	domain := strings.ToLower(strings.TrimSpace(c.FormValue("domain")))
	if !storage.ValidDomain(domain) {
		return &pageError{status: fiber.StatusUnprocessableEntity, title: "Not a domain name",
			message: fmt.Sprintf("%q is not a domain name: write it without scheme or path, e.g. example.com. Go back and try again.", domain)}
	}
	if h.deps.Keys == nil {
		return &pageError{status: fiber.StatusConflict, title: "Not available here", message: "This dashboard has no master secret; create the site with `verity site create`."}
	}
	pk, err := abuse.NewPublicKey()
	if err != nil {
		return err
	}
	s := storage.Site{ID: uuid.New(), TenantID: t.ID, Name: domain, Domain: domain, PublicKey: pk, SecretVersion: 1,
		AllowedOrigins: []string{"https://" + domain, "https://*." + domain}, CreatedAt: h.now().UTC().Truncate(time.Second)}
	secret := h.deps.Keys.SiteSecret(s.ID, s.SecretVersion)
	s.SecretHash = abuse.SecretHash(secret)
	if err := h.store.PutSite(c.UserContext(), s); err != nil {
		return err
	}
	if err := h.auditTenant(c, t.ID, "site.create", s.ID.String(), domain); err != nil {
		return err
	}
	c.Locals(localsSite, s)
	m := h.settingsModel(c, s)
	m.Notice = "Site added. Paste the snippet into its pages; the first visits show up within seconds."
	m.NewSecret = secret
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.SettingsPage(m))
}

func (h *Handler) rotatePublicKey(c *fiber.Ctx) error {
	s := siteOf(c)
	pk, err := abuse.NewPublicKey()
	if err != nil {
		return err
	}
	s.PublicKey = pk
	if err := h.store.PutSite(c.UserContext(), s); err != nil {
		return err
	}
	if err := h.auditTenant(c, s.TenantID, "site.rotate_public_key", s.ID.String(), ""); err != nil {
		return err
	}
	return c.Redirect("/sites/"+s.ID.String()+"/settings?done=public-key", fiber.StatusSeeOther)
}

// rotateSecretKey makes the next secret key and shows it in this response
// only: it is derived, never stored, and the page is not cached.
func (h *Handler) rotateSecretKey(c *fiber.Ctx) error {
	if h.deps.Keys == nil {
		return &pageError{status: fiber.StatusConflict, title: "Not available here", message: "This dashboard has no master secret; rotate the key with `verity site rotate-key --secret`."}
	}
	s := siteOf(c)
	s.SecretVersion++
	secret := h.deps.Keys.SiteSecret(s.ID, s.SecretVersion)
	s.SecretHash = abuse.SecretHash(secret)
	if err := h.store.PutSite(c.UserContext(), s); err != nil {
		return err
	}
	if err := h.auditTenant(c, s.TenantID, "site.rotate_secret_key", s.ID.String(), "version "+strconv.Itoa(int(s.SecretVersion))); err != nil {
		return err
	}
	m := h.settingsModel(c, s)
	m.NewSecret = secret
	c.Set(fiber.HeaderCacheControl, "no-store")
	return render(c, views.SettingsPage(m))
}

// sitesByID indexes sites by id, for API token scopes.
func sitesByID(sites []storage.Site) map[uuid.UUID]storage.Site {
	out := make(map[uuid.UUID]storage.Site, len(sites))
	for _, s := range sites {
		out[s.ID] = s
	}
	return out
}
