package dashboard

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage"
)

// A site's allow and deny rules and its quarantines: the same operations as
// `verity site rule ...` and `verity quarantine ...`, audited the same way
// with the signed-in user as the actor.

// ruleKinds label the rule kinds in the form.
var ruleKinds = []views.Option{
	{Value: abuse.RuleCIDR, Label: "network (CIDR), e.g. 203.0.113.0/24"},
	{Value: abuse.RuleASN, Label: "network operator (ASN), e.g. AS16509"},
	{Value: abuse.RuleCountry, Label: "country, e.g. DE"},
	{Value: abuse.RuleUA, Label: "part of the User-Agent, any case"},
	{Value: abuse.RulePath, Label: "page path: /exact or /prefix/*"},
}

// quarantineKinds label the quarantine kinds in the form.
var quarantineKinds = map[storage.QuarantineKind]string{
	storage.QuarantineASN:            "network operator (ASN), e.g. AS16509",
	storage.QuarantineCountry:        "country, e.g. DE",
	storage.QuarantinePath:           "page path: /exact or /prefix/*",
	storage.QuarantineSource:         "source, e.g. Google",
	storage.QuarantineReferrerDomain: "referrer domain and its subdomains",
	storage.QuarantineBrowser:        "browser, e.g. Chrome",
	storage.QuarantineUTMSource:      "UTM source",
}

// quarantineTimeLayout is how the list shows a window's bounds (UTC).
const quarantineTimeLayout = "2006-01-02 15:04:05"

func (h *Handler) protectionModel(c *fiber.Ctx) (views.Protection, error) {
	ctx := c.UserContext()
	s := siteOf(c)
	m := views.Protection{Chrome: chromeOf(c, "Rules · "+s.Name), Site: siteHeader(s, roleOf(c)), RuleKinds: ruleKinds,
		Notice: map[string]string{
			"rule-added":         "Rule added. Collectors apply it to new events within a minute.",
			"rule-removed":       "Rule removed.",
			"quarantine-added":   "Quarantined: statistics now count those events as invalid.",
			"quarantine-revoked": "Quarantine revoked: those events count as they were scored again.",
		}[c.Query("done")]}
	for _, k := range storage.QuarantineKinds {
		m.QuarantineKinds = append(m.QuarantineKinds, views.Option{Value: string(k), Label: string(k) + ": " + quarantineKinds[k]})
	}
	rules, err := h.store.Rules(ctx, s.ID)
	if err != nil {
		return m, err
	}
	for _, r := range rules {
		m.Rules = append(m.Rules, views.RuleRow{ID: r.ID.String(), Action: r.Action, Kind: r.Kind, Value: r.Value, Note: r.Note,
			CreatedBy: r.CreatedBy, Created: r.CreatedAt.Format("2 Jan 2006")})
	}
	qs, err := h.store.Quarantines(ctx, s.ID)
	if err != nil {
		return m, err
	}
	for _, q := range qs {
		m.Quarantines = append(m.Quarantines, views.QuarantineRow{ID: q.ID.String(), From: q.From.Format(quarantineTimeLayout),
			To: q.To.Format(quarantineTimeLayout), Kind: string(q.Kind), Value: q.Value, Note: q.Note, CreatedBy: q.CreatedBy, Revoked: q.Revoked})
	}
	return m, nil
}

func (h *Handler) protectionPage(c *fiber.Ctx) error {
	m, err := h.protectionModel(c)
	if err != nil {
		return err
	}
	return render(c, views.ProtectionPage(m))
}

// addRule checks the rule with abuse.ParseRule and stores it.
func (h *Handler) addRule(c *fiber.Ctx) error {
	s := siteOf(c)
	form := views.RuleForm{Action: c.FormValue("action"), Kind: c.FormValue("kind"), Value: c.FormValue("value"), Note: c.FormValue("note")}
	_, err := abuse.ParseRule(form.Action, form.Kind, form.Value)
	if err == nil && len(strings.TrimSpace(form.Note)) > 500 {
		err = errors.New("the note is longer than 500 bytes")
	}
	if err != nil {
		m, merr := h.protectionModel(c)
		if merr != nil {
			return merr
		}
		m.RuleForm, m.RuleError = form, "The rule was not added: "+err.Error()+"."
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, views.ProtectionPage(m))
	}
	r, err := h.store.PutRule(c.UserContext(), storage.SiteRule{SiteID: s.ID, Action: form.Action, Kind: form.Kind, Value: form.Value,
		Note: form.Note, CreatedBy: actor(principalOf(c).user), CreatedAt: h.now()})
	if err != nil {
		return err
	}
	if err := h.auditTenant(c, s.TenantID, "rule.add", r.ID.String(), "site "+s.ID.String()+": "+r.Describe()); err != nil {
		return err
	}
	return c.Redirect("/sites/"+s.ID.String()+"/rules?done=rule-added", fiber.StatusSeeOther)
}

func (h *Handler) removeRule(c *fiber.Ctx) error {
	s := siteOf(c)
	id, err := uuid.Parse(c.Params("rule"))
	if err != nil {
		return fiber.ErrNotFound
	}
	r, err := h.store.DeleteRule(c.UserContext(), s.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fiber.ErrNotFound
	} else if err != nil {
		return err
	}
	if err := h.auditTenant(c, s.TenantID, "rule.remove", r.ID.String(), "site "+s.ID.String()+": "+r.Describe()); err != nil {
		return err
	}
	return c.Redirect("/sites/"+s.ID.String()+"/rules?done=rule-removed", fiber.StatusSeeOther)
}

// addQuarantine checks the window and the match, and stores it.
func (h *Handler) addQuarantine(c *fiber.Ctx) error {
	s := siteOf(c)
	form := views.QuarantineForm{From: c.FormValue("from"), To: c.FormValue("to"), Kind: c.FormValue("kind"), Value: c.FormValue("value"), Note: c.FormValue("note")}
	var errs []string
	from, err := parseFormTime(form.From)
	if err != nil {
		errs = append(errs, "from: "+err.Error())
	}
	to, err := parseFormTime(form.To)
	if err != nil {
		errs = append(errs, "to: "+err.Error())
	}
	if len(errs) == 0 && !from.Before(to) {
		errs = append(errs, "the start must be before the end")
	}
	if _, _, err := storage.ParseQuarantineMatch(form.Kind, form.Value); err != nil {
		errs = append(errs, err.Error())
	}
	if len(strings.TrimSpace(form.Note)) > 500 {
		errs = append(errs, "the note is longer than 500 bytes")
	}
	if len(errs) > 0 {
		m, err := h.protectionModel(c)
		if err != nil {
			return err
		}
		m.QuarantineForm, m.QuarantineError = form, "Nothing was quarantined: "+strings.Join(errs, "; ")+"."
		c.Status(fiber.StatusUnprocessableEntity)
		return render(c, views.ProtectionPage(m))
	}
	q, err := h.store.PutQuarantine(c.UserContext(), storage.Quarantine{SiteID: s.ID, From: from, To: to, Kind: storage.QuarantineKind(form.Kind),
		Value: form.Value, Note: form.Note, CreatedBy: actor(principalOf(c).user), CreatedAt: h.now()})
	if err != nil {
		return err
	}
	if err := h.auditTenant(c, s.TenantID, "quarantine.add", q.ID.String(), "site "+s.ID.String()+": "+q.Describe()); err != nil {
		return err
	}
	return c.Redirect("/sites/"+s.ID.String()+"/rules?done=quarantine-added", fiber.StatusSeeOther)
}

func (h *Handler) revokeQuarantine(c *fiber.Ctx) error {
	s := siteOf(c)
	id, err := uuid.Parse(c.Params("quarantine"))
	if err != nil {
		return fiber.ErrNotFound
	}
	q, err := h.store.RevokeQuarantine(c.UserContext(), s.ID, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fiber.ErrNotFound
	case errors.Is(err, storage.ErrRevoked):
		// Revoked already (a second click, another admin): done.
		return c.Redirect("/sites/"+s.ID.String()+"/rules?done=quarantine-revoked", fiber.StatusSeeOther)
	case err != nil:
		return err
	}
	if err := h.auditTenant(c, s.TenantID, "quarantine.revoke", q.ID.String(), "site "+s.ID.String()+": "+q.Describe()); err != nil {
		return err
	}
	return c.Redirect("/sites/"+s.ID.String()+"/rules?done=quarantine-revoked", fiber.StatusSeeOther)
}

// parseFormTime reads a time in UTC as a datetime-local input sends it
// ("2026-03-10T14:00", with seconds when given), or as RFC 3339.
func parseFormTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want 2026-03-10T14:00 (UTC)", truncateText(s, 40))
}

// truncateText shortens hostile input quoted back to the user.
func truncateText(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "…"
}
