package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/dashboard/password"
	"github.com/verityhq/verity/storage"
)

func login(c *client, email, pw string) response {
	return c.post("/login", url.Values{"email": {email}, "password": {pw}})
}

// auditActions lists the actions audited for tenant, sorted (entries of
// one second have no order).
func auditActions(t *testing.T, f *fixture, tenant uuid.UUID) []string {
	t.Helper()
	entries, err := f.st.AuditLog(context.Background(), tenant, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action+" "+e.Detail)
	}
	slices.Sort(out)
	return out
}

func TestLoginAndLogout(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.client()

	r := login(c, f.ownerA.Email, "wrong password")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "The email address or the password is wrong.") {
		t.Fatalf("wrong password: %d\n%s", r.status, excerpt(r.body))
	}
	r = login(c, "nobody@example.com", testPassword)
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "The email address or the password is wrong.") {
		t.Fatalf("unknown email: %d", r.status)
	}
	csrfBefore := c.cookies["verity_csrf"]
	r = login(c, "  "+strings.ToUpper(f.ownerA.Email)+" ", testPassword)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/sites" {
		t.Fatalf("right password: %d %q", r.status, r.header.Get("Location"))
	}
	checkSecurityHeaders(t, r) // the throttles' X-RateLimit-* headers among the absent ones
	var session *http.Cookie
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if ck.Name == "verity_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Secure {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Lax, Path=/, not Secure over http", session)
	}
	// The store keeps the token's hash, never the token.
	if _, err := f.st.SessionByHash(context.Background(), session.Value, f.h.now()); err == nil {
		t.Error("the session token itself is a stored key")
	}
	if _, err := f.st.SessionByHash(context.Background(), hashSecret(session.Value), f.h.now()); err != nil {
		t.Errorf("session hash not stored: %v", err)
	}
	if r := c.get("/sites"); r.status != http.StatusOK || !strings.Contains(r.body, f.ownerA.Email) {
		t.Fatalf("sites after login: %d", r.status)
	}
	if c.cookies["verity_csrf"] == csrfBefore {
		t.Error("the CSRF token was not rotated at sign-in")
	}
	if got := auditActions(t, f, uuid.Nil); !slices.Equal(got, []string{
		"login.failed nobody@example.com", "login.failed " + f.ownerA.Email, "login.ok ",
	}) {
		t.Errorf("audit = %q", got)
	}

	token := c.cookies["verity_session"]
	if r := c.post("/logout", nil); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("logout: %d", r.status)
	}
	if _, ok := c.cookies["verity_session"]; ok {
		t.Error("logout left the session cookie")
	}
	// The old token is dead on the server, not just forgotten by the browser.
	replay := f.client()
	replay.cookies["verity_session"] = token
	if r := replay.get("/sites"); r.status != http.StatusSeeOther {
		t.Errorf("revoked session still works: %d", r.status)
	}
}

func TestSessionCookieOverHTTPS(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PublicURL = "https://stats.example.com"
	f := newFixture(t, cfg)
	c := f.client()
	c.get("/login")
	if _, ok := c.cookies["__Host-verity_csrf"]; !ok {
		t.Fatalf("cookies = %v, want __Host-verity_csrf", c.cookies)
	}
	// Fiber's CSRF check also wants a same-host Referer over https; app.Test
	// speaks plain http, so this checks the cookies only.
	form := url.Values{"email": {f.ownerA.Email}, "password": {testPassword}, "_csrf": {c.cookies["__Host-verity_csrf"]}}
	r := c.do(http.MethodPost, "/login", form)
	if r.status != http.StatusSeeOther {
		t.Fatalf("login: %d\n%s", r.status, excerpt(r.body))
	}
	for _, ck := range (&http.Response{Header: r.header}).Cookies() {
		if !strings.HasPrefix(ck.Name, "__Host-") || !ck.Secure || !ck.HttpOnly || ck.Path != "/" || ck.Domain != "" {
			t.Errorf("cookie %+v: want __Host-, Secure, HttpOnly, Path=/, no Domain", ck)
		}
	}
}

// Failed sign-ins are throttled per account (5 in 15 minutes, then locked
// even for the right password) and per network (30), with Retry-After and
// audit entries; success does not count.
func TestLoginThrottling(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.client()
	for i := range accountFailuresMax {
		if r := login(c, f.viewerA.Email, "wrong password"); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, r.status)
		}
	}
	r := login(c, f.viewerA.Email, testPassword)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("after %d failures, the right password got %d, want 429", accountFailuresMax, r.status)
	}
	retry, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || retry <= 0 || retry > int(throttleWindow.Seconds()) {
		t.Errorf("Retry-After = %q, want 1..%d seconds", r.header.Get("Retry-After"), int(throttleWindow.Seconds()))
	}
	if !strings.Contains(r.body, "Too many attempts") {
		t.Errorf("429 page:\n%s", excerpt(r.body))
	}
	// Another account from another network is not affected.
	other := f.client()
	other.ip = "198.51.100.7"
	if r := login(other, f.adminA.Email, testPassword); r.status != http.StatusSeeOther {
		t.Errorf("another account: %d, want 303", r.status)
	}
	got := auditActions(t, f, uuid.Nil)
	if !slices.Contains(got, "login.throttled account locked after failed attempts: "+f.viewerA.Email) {
		t.Errorf("no lockout audit entry in %q", got)
	}

	// Per network: many accounts from one /24 (another host in it).
	spray := f.client()
	spray.ip = "203.0.113.5"
	for i := range networkFailuresMax {
		spray.ip = "203.0.113." + strconv.Itoa(5+i%3)
		if r := login(spray, "user"+strconv.Itoa(i)+"@example.com", "x"); r.status != http.StatusUnauthorized {
			t.Fatalf("spray %d: %d", i, r.status)
		}
	}
	spray.ip = "203.0.113.200"
	if r := login(spray, f.adminA.Email, testPassword); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("network over its limit: %d Retry-After %q, want 429 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
}

// Every page request counts against its network's per-minute budget.
func TestRequestRateLimit(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.client()
	for i := range requestsPerMinute {
		if r := c.get("/login"); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
	}
	r := c.get("/login")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("request %d: %d Retry-After %q, want 429 with Retry-After", requestsPerMinute+1, r.status, r.header.Get("Retry-After"))
	}
	if r := f.client().get("/login"); r.status != http.StatusOK {
		t.Errorf("another network: %d", r.status)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	here, elsewhere := f.signedIn(f.adminA), f.signedIn(f.adminA)
	const next = "a brand new password"
	r := here.post("/account/password", url.Values{"current": {testPassword}, "new": {next}, "confirm": {next}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/account?done=password" {
		t.Fatalf("change: %d %q\n%s", r.status, r.header.Get("Location"), excerpt(r.body))
	}
	if r := here.get("/account?done=password"); r.status != http.StatusOK || !strings.Contains(r.body, "Password changed.") {
		t.Errorf("this browser after the change: %d", r.status)
	}
	if r := elsewhere.get("/sites"); r.status != http.StatusSeeOther {
		t.Errorf("other session after the change: %d, want 303 to sign-in", r.status)
	}
	u, err := f.st.UserByID(context.Background(), f.adminA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := password.Verify(next, u.PasswordHash); !ok {
		t.Error("the new password does not verify")
	}
}

func TestLogoutEverywhere(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	a, b := f.signedIn(f.viewerA), f.signedIn(f.viewerA)
	bystander := f.signedIn(f.adminA)
	if r := a.post("/account/sessions/revoke", nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	for name, c := range map[string]*client{"this": a, "other": b} {
		if r := c.get("/sites"); r.status != http.StatusSeeOther {
			t.Errorf("%s session still works: %d", name, r.status)
		}
	}
	if r := bystander.get("/sites"); r.status != http.StatusOK {
		t.Errorf("another user's session ended too: %d", r.status)
	}
}

func TestInviteFlow(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	admin := f.signedIn(f.adminA)
	// Admins may not make owners.
	if r := admin.post("/tenants/"+f.tenantA.ID.String()+"/invites", url.Values{"email": {"new@acme.example"}, "role": {"owner"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("admin inviting an owner: %d, want 422", r.status)
	}
	r := admin.post("/tenants/"+f.tenantA.ID.String()+"/invites", url.Values{"email": {"New@Acme.example"}, "role": {"admin"}})
	if r.status != http.StatusOK || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("invite: %d %q", r.status, r.header.Get("Cache-Control"))
	}
	link := between(r.body, "http://localhost:8081/invite/", "</code>")
	if len(link) < 40 {
		t.Fatalf("no invite link in:\n%s", excerpt(r.body))
	}
	// The link is shown once: the members page lists the invite, not it.
	if page := admin.get("/tenants/" + f.tenantA.ID.String() + "/members"); strings.Contains(page.body, link) || !strings.Contains(page.body, "new@acme.example") {
		t.Error("members page shows the invite token or misses the invite")
	}

	guest := f.client()
	if r := guest.get("/invite/" + link); r.status != http.StatusOK || !strings.Contains(r.body, "Join Acme") {
		t.Fatalf("invite page: %d", r.status)
	}
	if r := guest.post("/invite/"+link, url.Values{"password": {"too short"}, "confirm": {"too short"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("short password: %d, want 422", r.status)
	}
	const pw = "my own password here"
	if r := guest.post("/invite/"+link, url.Values{"name": {"New"}, "password": {pw}, "confirm": {pw}}); r.status != http.StatusSeeOther {
		t.Fatalf("accept: %d\n%s", r.status, excerpt(r.body))
	}
	if r := guest.get("/sites/" + f.siteA.ID.String() + "/settings"); r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="save-settings"`) {
		t.Errorf("new admin on A's settings: %d", r.status)
	}
	// Used once only.
	if r := f.client().get("/invite/" + link); r.status != http.StatusNotFound {
		t.Errorf("used link: %d, want 404", r.status)
	}
	if r := login(f.client(), "new@acme.example", pw); r.status != http.StatusSeeOther {
		t.Errorf("login with the chosen password: %d", r.status)
	}
	got := auditActions(t, f, f.tenantA.ID)
	if !slices.Contains(got, "member.invite new@acme.example as admin") || !slices.Contains(got, "member.join new@acme.example as admin") {
		t.Errorf("audit = %q", got)
	}
}

func TestMembersRules(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	base := "/tenants/" + f.tenantA.ID.String() + "/members/"
	admin, owner := f.signedIn(f.adminA), f.signedIn(f.ownerA)
	if r := admin.post(base+f.ownerA.ID.String()+"/role", url.Values{"role": {"viewer"}}); r.status != http.StatusForbidden {
		t.Errorf("admin demoting the owner: %d, want 403", r.status)
	}
	if r := admin.post(base+f.viewerA.ID.String()+"/role", url.Values{"role": {"owner"}}); r.status != http.StatusForbidden {
		t.Errorf("admin making an owner: %d, want 403", r.status)
	}
	if r := owner.post(base+f.ownerA.ID.String()+"/role", url.Values{"role": {"admin"}}); r.status != http.StatusConflict {
		t.Errorf("last owner stepping down: %d, want 409", r.status)
	}
	if r := owner.post(base+f.ownerA.ID.String()+"/remove", nil); r.status != http.StatusConflict {
		t.Errorf("last owner leaving: %d, want 409", r.status)
	}
	if r := owner.post(base+f.ownerB.ID.String()+"/remove", nil); r.status != http.StatusNotFound {
		t.Errorf("removing another tenant's member: %d, want 404", r.status)
	}
	viewer := f.signedIn(f.viewerA)
	if r := owner.post(base+f.viewerA.ID.String()+"/remove", nil); r.status != http.StatusSeeOther {
		t.Fatalf("owner removing the viewer: %d", r.status)
	}
	// Access ends at once, on the next request.
	if r := viewer.get("/sites/" + f.siteA.ID.String()); r.status != http.StatusNotFound {
		t.Errorf("removed member on the site: %d, want 404", r.status)
	}
}

func TestSettingsAndKeys(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.signedIn(f.ownerA)
	base := "/sites/" + f.siteA.ID.String()
	r := c.post(base+"/settings", url.Values{"name": {""}, "domain": {"https://x.example/"}, "origins": {"ftp://x\nhttps://ok.example"}, "retention": {"-1"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad settings: %d", r.status)
	}
	for _, want := range []string{"The name must be", "is not a domain name", "Allowed origin &#34;ftp://x&#34;", "Retention must be"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("errors lack %q:\n%s", want, between(r.body, `data-testid="form-error"`, "</div>"))
		}
	}
	r = c.post(base+"/settings", url.Values{"name": {"Acme"}, "domain": {"Acme.Example"}, "origins": {"https://acme.example\r\nHTTPS://*.Acme.example/\n\nhttps://acme.example"}, "retention": {"400"}, "dnt": {"on"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("good settings: %d\n%s", r.status, excerpt(r.body))
	}
	s, err := f.st.SiteByID(context.Background(), f.siteA.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "Acme" || s.Domain != "acme.example" || !slices.Equal(s.AllowedOrigins, []string{"https://acme.example", "https://*.acme.example"}) || s.RetentionDays != 400 || !s.RespectDNT {
		t.Errorf("stored site = %+v", s)
	}

	r = c.post(base+"/keys/secret", nil)
	secret := between(r.body, `data-testid="new-secret"><p><strong>New secret key</strong> (shown once: store it now; it signs server-to-server events):</p><pre><code>`, "</code>")
	if r.status != http.StatusOK || secret == "" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("rotate secret: %d %q, secret %q", r.status, r.header.Get("Cache-Control"), secret)
	}
	if s, _ = f.st.SiteByID(context.Background(), f.siteA.ID); s.SecretVersion != 2 || s.SecretHash == "" || strings.Contains(s.SecretHash, secret) {
		t.Errorf("after rotation: version %d hash %q", s.SecretVersion, s.SecretHash)
	}
	if page := c.get(base + "/settings"); strings.Contains(page.body, secret) {
		t.Error("the secret is shown again")
	}
	oldPK := s.PublicKey
	if r := c.post(base+"/keys/public", nil); r.status != http.StatusSeeOther {
		t.Fatalf("rotate public: %d", r.status)
	}
	if s, _ = f.st.SiteByID(context.Background(), f.siteA.ID); s.PublicKey == oldPK {
		t.Error("public key unchanged")
	}
	page := c.get(base + "/settings?done=public-key")
	if !strings.Contains(page.body, `data-site=&#34;`+s.PublicKey+`&#34;`) || !strings.Contains(page.body, "integrity=&#34;sha384-") || !strings.Contains(page.body, "New public key made.") {
		t.Errorf("settings lack the new snippet with SRI:\n%s", excerpt(page.body))
	}
	// A viewer sees the form disabled and no key buttons.
	v := f.signedIn(f.viewerA).get(base + "/settings")
	if !strings.Contains(v.body, "<fieldset disabled>") || strings.Contains(v.body, "rotate-public") {
		t.Error("viewer gets editable settings")
	}
}

func TestCreateSite(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	empty, err := f.st.CreateTenant(context.Background(), "Empty Co")
	if err != nil {
		t.Fatal(err)
	}
	owner := f.member(empty, storage.RoleOwner)
	c := f.signedIn(owner)
	if r := c.get("/sites"); !strings.Contains(r.body, `data-testid="no-sites"`) || !strings.Contains(r.body, `data-testid="new-site-domain"`) {
		t.Fatalf("empty team lacks the empty state with the add-site form:\n%s", excerpt(r.body))
	}
	base := "/tenants/" + empty.ID.String() + "/sites"
	if r := c.post(base, url.Values{"domain": {"https://shop.example/"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("URL as domain: %d, want 422", r.status)
	}
	r := c.post(base, url.Values{"domain": {" Shop.Example "}})
	secret := between(r.body, `data-testid="new-secret"><p><strong>New secret key</strong> (shown once: store it now; it signs server-to-server events):</p><pre><code>`, "</code>")
	if r.status != http.StatusOK || secret == "" || r.header.Get("Cache-Control") != "no-store" || !strings.Contains(r.body, "Site added.") {
		t.Fatalf("create: %d, secret %q\n%s", r.status, secret, excerpt(r.body))
	}
	sites, err := f.st.Sites(context.Background(), storage.SiteFilter{TenantID: empty.ID})
	if err != nil || len(sites) != 1 {
		t.Fatalf("sites = %v, %v", sites, err)
	}
	s := sites[0]
	if s.Domain != "shop.example" || !slices.Equal(s.AllowedOrigins, []string{"https://shop.example", "https://*.shop.example"}) ||
		s.SecretHash != abuse.SecretHash(secret) || !strings.HasPrefix(s.PublicKey, "pk_") {
		t.Errorf("stored site = %+v", s)
	}
	if r := c.get("/sites"); !strings.Contains(r.body, s.PublicKey) || strings.Contains(r.body, `data-testid="no-sites"`) {
		t.Error("the sites page lacks the new site's snippet")
	}
	// A viewer of the team sees no form and is refused.
	v := f.signedIn(f.member(empty, storage.RoleViewer))
	if r := v.get("/sites"); strings.Contains(r.body, `data-testid="new-site-domain"`) {
		t.Error("viewer sees the add-site form")
	}
}

func TestAPITokens(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.signedIn(f.adminA)
	base := "/tenants/" + f.tenantA.ID.String() + "/tokens"
	if r := c.post(base, url.Values{"name": {"ci"}, "site": {f.siteB.ID.String()}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Choose sites of this team only.") {
		t.Errorf("token for another tenant's site: %d", r.status)
	}
	r := c.post(base, url.Values{"name": {"ci"}, "site": {f.siteA.ID.String()}})
	token := between(r.body, "<pre><code>", "</code>")
	if r.status != http.StatusOK || !strings.HasPrefix(token, "vt_") || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %q", r.status, token)
	}
	stored, err := f.st.APITokenByHash(context.Background(), hashSecret(token))
	if err != nil || stored.Name != "ci" || !slices.Equal(stored.SiteIDs, []uuid.UUID{f.siteA.ID}) || stored.TenantID != f.tenantA.ID {
		t.Fatalf("stored = %+v, %v", stored, err)
	}
	if page := c.get(base); strings.Contains(page.body, token) || !strings.Contains(page.body, "acme.example") {
		t.Error("token shown again, or its site missing")
	}
	if r := c.post(base+"/"+stored.ID.String()+"/revoke", nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	if _, err := f.st.APITokenByHash(context.Background(), hashSecret(token)); err != storage.ErrNotFound {
		t.Errorf("revoked token still found: %v", err)
	}
}

// between returns the text of s between the first before and the next after.
func between(s, before, after string) string {
	i := strings.Index(s, before)
	if i < 0 {
		return ""
	}
	s = s[i+len(before):]
	j := strings.Index(s, after)
	if j < 0 {
		return ""
	}
	return s[:j]
}
