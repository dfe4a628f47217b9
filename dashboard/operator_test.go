package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// opEmail is the fixture operator's address; the configuration lists it in
// another case, which must not matter.
const opEmail = "ops@verity.example"

// operatorFixture is the two-tenant fixture with one more user, not a
// member of any tenant, who is the configured operator.
func operatorFixture(t *testing.T) (*fixture, storage.User) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Operators = []string{"Ops@Verity.example"}
	f := newFixture(t, cfg)
	ops, err := f.st.CreateUser(context.Background(), opEmail, "Operator", hashOnce())
	if err != nil {
		t.Fatal(err)
	}
	return f, ops
}

// tenantRow is the operator view's table row of tenant.
func tenantRow(body string, tenant uuid.UUID) string {
	return between(body, `data-tenant="`+tenant.String()+`">`, "</tr>")
}

// cell is the text of the row's cell with that test id.
func cell(row, testid string) string {
	return strings.TrimSpace(between(row, `data-testid="`+testid+`">`, "</td>"))
}

// TestOperatorUsage: the operator sees every tenant with its sites,
// members, owners, and events and rejected requests over the last 30 days
// and this month, summed over the tenant's sites, with totals; the clock
// is fixed so that the windows are known.
func TestOperatorUsage(t *testing.T) {
	f, ops := operatorFixture(t)
	now := time.Date(2031, 3, 10, 12, 0, 0, 0, time.UTC)
	d := f.h.deps
	d.Now = func() time.Time { return now }
	f.h = New(f.h.cfg, d, f.h.log)
	f.app = f.h.App()

	siteA2 := f.site(f.tenantA, "shop.acme.example")
	f.events(f.siteA, now.Add(-time.Hour), "ok", "suspect", "invalid") // both windows, every verdict
	f.events(f.siteA, time.Date(2031, 2, 20, 8, 0, 0, 0, time.UTC), "ok", "ok")
	f.events(f.siteA, time.Date(2031, 1, 1, 8, 0, 0, 0, time.UTC), "ok") // neither
	f.events(siteA2, now.Add(-2*time.Hour), "ok", "ok", "ok", "ok")      // A's second site
	f.events(f.siteB, now.Add(-time.Minute), "ok", "ok", "ok", "ok", "ok", "ok", "ok")
	rejections := []storage.Rejection{
		{SiteID: f.siteA.ID, Minute: now.Truncate(time.Minute), Reason: "origin_not_allowed", Count: 4},
		{SiteID: f.siteA.ID, Minute: time.Date(2031, 2, 20, 8, 0, 0, 0, time.UTC), Reason: "replay", Count: 6},
		{SiteID: f.siteB.ID, Minute: now.Truncate(time.Minute), Reason: "replay", Count: 1},
	}
	if err := f.st.InsertRejections(context.Background(), rejections); err != nil {
		t.Fatal(err)
	}
	empty, err := f.st.CreateTenant(context.Background(), "Gamma")
	if err != nil {
		t.Fatal(err)
	}

	// A session valid at the fixed clock (f.signedIn's follows the real one).
	c := f.client()
	token, hash := newSecret("")
	if err := f.st.CreateSession(context.Background(), storage.Session{Hash: hash, UserID: ops.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c.cookies["verity_session"] = token
	r := c.get("/operator")
	if r.status != http.StatusOK {
		t.Fatalf("operator view: %d\n%s", r.status, excerpt(r.body))
	}
	if !strings.Contains(r.body, `data-testid="nav-operator"`) || !strings.Contains(r.body, "Events, March") {
		t.Errorf("operator view lacks the navigation link or the month's name")
	}
	want := map[uuid.UUID]map[string]string{
		f.tenantA.ID: {"sites": "2", "members": "3", "owners": f.ownerA.Email, "events-30d": "9", "events-month": "7", "rejected-30d": "10", "rejected-month": "4"},
		f.tenantB.ID: {"sites": "1", "members": "1", "owners": f.ownerB.Email, "events-30d": "7", "events-month": "7", "rejected-30d": "1", "rejected-month": "1"},
		empty.ID:     {"sites": "0", "members": "0", "owners": `<span class="muted">none yet</span>`, "events-30d": "0", "events-month": "0", "rejected-30d": "0", "rejected-month": "0"},
	}
	for tenant, cells := range want {
		row := tenantRow(r.body, tenant)
		if row == "" {
			t.Errorf("no row for tenant %s", tenant)
			continue
		}
		for id, v := range cells {
			if got := cell(row, id); got != v {
				t.Errorf("tenant %s: %s = %q, want %q", tenant, id, got, v)
			}
		}
	}
	total := between(r.body, `data-testid="total-row">`, "</tr>")
	for id, v := range map[string]string{"sites": "3", "members": "4", "events-30d": "16", "events-month": "14", "rejected-30d": "11", "rejected-month": "5"} {
		if got := cell(total, id); got != v {
			t.Errorf("total %s = %q, want %q", id, got, v)
		}
	}
	// By name; only the tenant without an owner gets an owner invite form.
	if a, b, g := strings.Index(r.body, "<strong>Acme</strong>"), strings.Index(r.body, "<strong>Beta</strong>"), strings.Index(r.body, "<strong>Gamma</strong>"); a < 0 || a > b || b > g {
		t.Error("tenants are not listed by name")
	}
	if forms := strings.Count(r.body, `data-testid="owner-invite"`); forms != 1 || !strings.Contains(r.body, `action="/operator/tenants/`+empty.ID.String()+`/invites"`) {
		t.Errorf("%d owner invite forms, want one, for Gamma", forms)
	}
	// Counts only: the operator, a member of no tenant, reaches none of
	// their statistics, settings, members or tokens.
	for _, p := range []string{"/sites/" + f.siteA.ID.String(), "/sites/" + f.siteA.ID.String() + "/settings",
		"/tenants/" + f.tenantA.ID.String() + "/members", "/tenants/" + f.tenantB.ID.String() + "/tokens"} {
		if r := c.get(p); r.status != http.StatusNotFound {
			t.Errorf("operator on %s: %d, want 404", p, r.status)
		}
	}
	if r := c.get("/sites"); r.status != http.StatusOK || strings.Contains(r.body, f.siteA.Domain) || strings.Contains(r.body, f.siteB.Domain) {
		t.Errorf("operator's sites page: %d, lists tenants' sites", r.status)
	}
}

// TestOperatorCreatesTenantAndInvitesOwner walks the operator's job: create
// a tenant, invite its first owner (a second link replaces the first), and
// the owner accepts, signs in and sees their tenant only. Every step is
// audited in the new tenant's log.
func TestOperatorCreatesTenantAndInvitesOwner(t *testing.T) {
	f, ops := operatorFixture(t)
	c := f.signedIn(ops)
	for _, tc := range []struct {
		name   string
		status int
	}{{"", http.StatusUnprocessableEntity}, {strings.Repeat("x", 201), http.StatusUnprocessableEntity}, {" acme ", http.StatusConflict}} {
		if r := c.post("/operator/tenants", url.Values{"name": {tc.name}}); r.status != tc.status || !strings.Contains(r.body, `data-testid="form-error"`) {
			t.Errorf("tenant named %q: %d, want %d with the form's error", tc.name, r.status, tc.status)
		}
	}
	r := c.post("/operator/tenants", url.Values{"name": {"  Gamma  "}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/operator?created=") {
		t.Fatalf("create tenant: %d to %q", r.status, r.header.Get("Location"))
	}
	id, err := uuid.Parse(strings.TrimPrefix(r.header.Get("Location"), "/operator?created="))
	if err != nil {
		t.Fatal(err)
	}
	gamma, err := f.st.TenantByID(context.Background(), id)
	if err != nil || gamma.Name != "Gamma" {
		t.Fatalf("created tenant = %+v, %v", gamma, err)
	}
	if r := c.get(r.header.Get("Location")); !strings.Contains(r.body, "Created Gamma. Invite its first owner below.") || tenantRow(r.body, id) == "" {
		t.Errorf("the page after creating lacks the notice or the row")
	}

	invite := "/operator/tenants/" + id.String() + "/invites"
	if r := c.post(invite, url.Values{"email": {"not an address"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Enter one email address") {
		t.Errorf("bad email: %d", r.status)
	}
	for _, bad := range []string{"/operator/tenants/" + uuid.NewString() + "/invites", "/operator/tenants/x/invites"} {
		if r := c.post(bad, url.Values{"email": {"a@b.example"}}); r.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", bad, r.status)
		}
	}
	links := make([]string, 2)
	for i, email := range []string{"wrong@gamma.example", "Owner@Gamma.example"} {
		r := c.post(invite, url.Values{"email": {email}})
		if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("invite %s: %d %q\n%s", email, r.status, r.header.Get("Cache-Control"), excerpt(r.body))
		}
		if links[i] = between(r.body, "http://localhost:8081/invite/", "</code>"); len(links[i]) < 40 {
			t.Fatalf("no invite link in:\n%s", excerpt(r.body))
		}
	}
	// Shown once; the row names the pending owner; the first link is gone.
	page := c.get("/operator")
	if strings.Contains(page.body, links[1]) || cell(tenantRow(page.body, id), "owners") != `<span class="muted">invited: owner@gamma.example</span>` {
		t.Errorf("operator view shows the link or not the pending invite: %q", cell(tenantRow(page.body, id), "owners"))
	}
	if r := f.client().get("/invite/" + links[0]); r.status != http.StatusNotFound {
		t.Errorf("replaced link: %d, want 404", r.status)
	}

	guest := f.client()
	if r := guest.get("/invite/" + links[1]); r.status != http.StatusOK || !strings.Contains(r.body, "Join Gamma") {
		t.Fatalf("invite page: %d", r.status)
	}
	const pw = "gamma owner password"
	if r := guest.post("/invite/"+links[1], url.Values{"name": {"Owner"}, "password": {pw}, "confirm": {pw}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept: %d\n%s", r.status, excerpt(r.body))
	}
	owner := f.client()
	if r := login(owner, "owner@gamma.example", pw); r.status != http.StatusSeeOther {
		t.Fatalf("owner signs in: %d", r.status)
	}
	sites := owner.get("/sites")
	if sites.status != http.StatusOK || !strings.Contains(sites.body, "<h2>Gamma</h2>") || strings.Contains(sites.body, "Acme") || strings.Contains(sites.body, "Beta") {
		t.Errorf("the new owner's sites page: %d\n%s", sites.status, excerpt(sites.body))
	}
	for _, p := range []string{"/tenants/" + id.String() + "/members", "/tenants/" + id.String() + "/tokens"} {
		if r := owner.get(p); r.status != http.StatusOK {
			t.Errorf("owner on %s: %d", p, r.status)
		}
	}
	for _, p := range []string{"/sites/" + f.siteA.ID.String(), "/tenants/" + f.tenantB.ID.String() + "/members", "/operator"} {
		if r := owner.get(p); r.status != http.StatusNotFound {
			t.Errorf("new owner on %s: %d, want 404", p, r.status)
		}
	}
	if strings.Contains(sites.body, `data-testid="nav-operator"`) {
		t.Error("a tenant owner sees the operator link")
	}
	// The tenant has its owner now: the operator invites no more.
	if r := c.post(invite, url.Values{"email": {"second@gamma.example"}}); r.status != http.StatusConflict {
		t.Errorf("invite to a tenant with an owner: %d, want 409", r.status)
	}
	if r := c.get("/operator"); cell(tenantRow(r.body, id), "owners") != "owner@gamma.example" || strings.Contains(r.body, `data-testid="owner-invite"`) {
		t.Errorf("after accepting: owners %q", cell(tenantRow(r.body, id), "owners"))
	}
	got := auditActions(t, f, id)
	wantAudit := []string{"member.invite owner@gamma.example as owner, by an operator", "member.invite wrong@gamma.example as owner, by an operator",
		"member.invite_revoke wrong@gamma.example, replaced by an operator's new owner invite", "member.join owner@gamma.example as owner", "tenant.create Gamma"}
	if !slices.Equal(got, wantAudit) {
		t.Errorf("audit =\n%q\nwant\n%q", got, wantAudit)
	}
	entries, err := f.st.AuditLog(context.Background(), id, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Action != "member.join" && e.Actor != actor(ops) {
			t.Errorf("%s by %q, want the operator %q", e.Action, e.Actor, actor(ops))
		}
	}
}

// TestOperatorRoutesAreHidden: to every tenant role, another tenant's
// owner and a signed-out visitor, each operator route answers exactly what
// a page that does not exist answers, and changes nothing; the operator's
// writes without a CSRF token are refused.
func TestOperatorRoutesAreHidden(t *testing.T) {
	f, ops := operatorFixture(t)
	ctx := context.Background()
	gamma, err := f.st.CreateTenant(ctx, "Gamma")
	if err != nil {
		t.Fatal(err)
	}
	routes := []struct {
		method, path string
		form         url.Values
	}{
		{http.MethodGet, "/operator", nil},
		{http.MethodGet, "/operator/", nil},
		{http.MethodPost, "/operator/tenants", url.Values{"name": {"Intruder"}}},
		{http.MethodPost, "/operator/tenants/" + gamma.ID.String() + "/invites", url.Values{"email": {"me@intruder.example"}}},
		{http.MethodPost, "/operator/tenants/" + f.tenantA.ID.String() + "/invites", url.Values{"email": {"me@intruder.example"}}},
	}
	users := map[string]*client{"owner A": f.signedIn(f.ownerA), "admin A": f.signedIn(f.adminA), "viewer A": f.signedIn(f.viewerA),
		"owner B": f.signedIn(f.ownerB), "signed out": f.client()}
	for who, c := range users {
		if r := c.get("/sites"); strings.Contains(r.body, `data-testid="nav-operator"`) || strings.Contains(r.body, `href="/operator"`) {
			t.Errorf("%s sees the operator link", who)
		}
		for _, rt := range routes {
			var got, missing response
			if rt.method == http.MethodGet {
				got, missing = c.get(rt.path), c.get("/no-such-page")
			} else {
				got, missing = c.post(rt.path, rt.form), c.post("/no-such-page", rt.form)
			}
			if got.status != http.StatusNotFound || withoutNonce(got.body) != withoutNonce(missing.body) {
				t.Errorf("%s: %s %s = %d, want the 404 of a missing page\n%s", who, rt.method, rt.path, got.status, excerpt(got.body))
			}
		}
	}
	tenants, err := f.st.Tenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []uuid.UUID{gamma.ID, f.tenantA.ID} {
		if invs, err := f.st.PendingInvites(ctx, tenant, time.Now()); err != nil || len(invs) != 0 || len(tenants) != 3 {
			t.Errorf("non-operators changed something: %d tenants, invites %v (%v)", len(tenants), invs, err)
		}
	}

	// The operator's writes need the CSRF token like every other write.
	op := f.signedIn(ops)
	if r := op.get("/sites"); !strings.Contains(r.body, `data-testid="nav-operator"`) {
		t.Error("the operator's navigation lacks the operator link")
	}
	for _, rt := range routes[2:] {
		if r := op.postNoCSRF(rt.path, rt.form); r.status != http.StatusForbidden || !strings.Contains(r.body, "Form expired") {
			t.Errorf("operator without CSRF token: %s = %d, want 403", rt.path, r.status)
		}
	}
	if after, err := f.st.Tenants(ctx); err != nil || len(after) != 3 {
		t.Errorf("a write without a token created a tenant: %d (%v)", len(after), err)
	}
	if invs, err := f.st.PendingInvites(ctx, gamma.ID, time.Now()); err != nil || len(invs) != 0 {
		t.Errorf("a write without a token made an invite: %v (%v)", invs, err)
	}
	// The operator role is configuration: no membership stands behind it,
	// and leaving the list ends it on the next request.
	cfg := f.h.cfg
	cfg.Operators = nil
	f.h = New(cfg, f.h.deps, f.h.log)
	op.app = f.h.App()
	if r := op.get("/operator"); r.status != http.StatusNotFound {
		t.Errorf("operator removed from the configuration: %d, want 404", r.status)
	}
}

// An invite link cannot create the account of an operator's address: a
// tenant admin could otherwise invite an operator address that has no
// account, accept it and be an operator. Once the account exists (made by
// `verity user create`), the same link works with its password.
func TestOperatorAddressIsNotSignedUpByInvite(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Operators = []string{"new-ops@verity.example"}
	f := newFixture(t, cfg)
	admin := f.signedIn(f.adminA)
	r := admin.post("/tenants/"+f.tenantA.ID.String()+"/invites", url.Values{"email": {"New-Ops@verity.example"}, "role": {"viewer"}})
	link := between(r.body, "http://localhost:8081/invite/", "</code>")
	if len(link) < 40 {
		t.Fatalf("no invite link: %d", r.status)
	}
	guest := f.client()
	if r := guest.get("/invite/" + link); r.status != http.StatusForbidden || strings.Contains(r.body, `name="password"`) {
		t.Errorf("invite page for an operator address: %d, want 403 without a form", r.status)
	}
	const pw = "taking over operators"
	if r := guest.post("/invite/"+link, url.Values{"password": {pw}, "confirm": {pw}}); r.status != http.StatusForbidden {
		t.Errorf("accepting: %d, want 403", r.status)
	}
	if _, err := f.st.UserByEmail(context.Background(), "new-ops@verity.example"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("an account was made: %v", err)
	}
	if r := guest.get("/operator"); r.status != http.StatusNotFound {
		t.Errorf("guest on the operator view: %d", r.status)
	}
	if got := auditActions(t, f, f.tenantA.ID); !slices.Contains(got, "member.join_refused new-ops@verity.example: an operator address without an account") {
		t.Errorf("refusal not audited: %q", got)
	}
	// The account exists now: the link asks for its password and works.
	ops, err := f.st.CreateUser(context.Background(), "new-ops@verity.example", "Ops", hashOnce())
	if err != nil {
		t.Fatal(err)
	}
	if r := guest.post("/invite/"+link, url.Values{"password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("accepting with the account's password: %d\n%s", r.status, excerpt(r.body))
	}
	if r := guest.get("/operator"); r.status != http.StatusOK {
		t.Errorf("the operator, signed in by accepting: %d", r.status)
	}
	if ms, err := f.st.MembershipsOfUser(context.Background(), ops.ID); err != nil || len(ms) != 1 || ms[0].Role != storage.RoleViewer {
		t.Errorf("memberships = %v, %v", ms, err)
	}
}

// withoutNonce is body without its CSP nonces, which differ per response.
func withoutNonce(body string) string {
	return regexp.MustCompile(`nonce="[^"]*"`).ReplaceAllString(body, `nonce=""`)
}

func TestOperatorsConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Operators = []string{"ops@example.com", "Ops@Example.com", "Ops <x@example.com>", "not an address", "b@example.com"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("invalid operators accepted")
	}
	for _, want := range []string{`"Ops@Example.com" is listed twice`, `"Ops <x@example.com>" is not an email address`, `"not an address" is not an email address`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "b@example.com") || strings.Count(err.Error(), "dashboard.operators") != 3 {
		t.Errorf("error names more than the three bad entries:\n%v", err)
	}
	cfg.Operators = []string{" Ops@Example.com "}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid operators refused: %v", err)
	}
	if !cfg.isOperator("ops@example.com") || cfg.isOperator("other@example.com") || DefaultConfig().isOperator("ops@example.com") {
		t.Error("isOperator is wrong")
	}
}
