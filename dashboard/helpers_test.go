package dashboard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/dashboard/password"
	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// testPassword is every fixture user's password.
const testPassword = "correct horse battery"

// hashOnce hashes testPassword once per test binary: argon2id is slow on
// purpose, and the fixture has several users.
var hashOnce = sync.OnceValue(func() string {
	h, err := password.Hash(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// fixture is two tenants on one ClickHouse database: A with an owner, an
// admin and a viewer and one site, B with an owner and one site.
type fixture struct {
	t        testing.TB
	st       *storage.Store
	app      *fiber.App
	h        *Handler
	logs     *syncBuffer
	tenantA  storage.Tenant
	tenantB  storage.Tenant
	siteA    storage.Site
	siteB    storage.Site
	ownerA   storage.User
	adminA   storage.User
	viewerA  storage.User
	ownerB   storage.User
	keys     *abuse.Keyring
	userSeq  int
	clients  int
	eventSeq uint64
}

func newFixture(t testing.TB, cfg Config) *fixture {
	t.Helper()
	st := chtest.Store(t)
	master, err := abuse.GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	mb, err := abuse.ParseMaster(master)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := abuse.NewKeyring(mb)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, keys: keys, logs: &syncBuffer{}}
	// app.Test's connections come from 0.0.0.0; trusting it lets each
	// client name its address in X-Forwarded-For.
	cfg.TrustedProxies = []string{"0.0.0.0"}
	f.h = New(cfg, Deps{Store: st, Keys: keys, CollectorURL: "https://collect.example"}, slog.New(slog.NewTextHandler(f.logs, nil)))
	f.app = f.h.App()
	ctx := context.Background()
	if f.tenantA, err = st.CreateTenant(ctx, "Acme"); err != nil {
		t.Fatal(err)
	}
	if f.tenantB, err = st.CreateTenant(ctx, "Beta"); err != nil {
		t.Fatal(err)
	}
	f.ownerA = f.member(f.tenantA, storage.RoleOwner)
	f.adminA = f.member(f.tenantA, storage.RoleAdmin)
	f.viewerA = f.member(f.tenantA, storage.RoleViewer)
	f.ownerB = f.member(f.tenantB, storage.RoleOwner)
	f.siteA = f.site(f.tenantA, "acme.example")
	f.siteB = f.site(f.tenantB, "beta.example")
	return f
}

// member creates a user with testPassword in tenant with role.
func (f *fixture) member(tenant storage.Tenant, role storage.Role) storage.User {
	f.t.Helper()
	f.userSeq++
	email := string(role) + "-" + uuid.NewString()[:8] + "@" + strings.ToLower(tenant.Name) + ".example"
	u, err := f.st.CreateUser(context.Background(), email, "User "+string(role), hashOnce())
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.SetMembership(context.Background(), storage.Membership{TenantID: tenant.ID, UserID: u.ID, Role: role}); err != nil {
		f.t.Fatal(err)
	}
	return u
}

func (f *fixture) site(tenant storage.Tenant, domain string) storage.Site {
	f.t.Helper()
	pk, err := abuse.NewPublicKey()
	if err != nil {
		f.t.Fatal(err)
	}
	s := storage.Site{ID: uuid.New(), TenantID: tenant.ID, Name: domain, Domain: domain, PublicKey: pk, SecretVersion: 1,
		AllowedOrigins: []string{"https://" + domain}}
	if err := f.st.PutSite(context.Background(), s); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   string
}

// client is a browser: it keeps cookies and sends the CSRF token with
// every POST form (unless told not to).
type client struct {
	f       *fixture
	app     *fiber.App
	cookies map[string]string
	ip      string
}

// client is a new browser in a network of its own, so that one test's
// many clients do not share the per-network limits.
func (f *fixture) client() *client {
	f.clients++
	return &client{f: f, app: f.app, cookies: map[string]string{}, ip: fmt.Sprintf("10.%d.%d.1", f.clients/256, f.clients%256)}
}

// signedIn is a client with a new session of u, made directly in the
// store (the sign-in form has its own tests).
func (f *fixture) signedIn(u storage.User) *client {
	f.t.Helper()
	c := f.client()
	token, hash := newSecret("")
	now := time.Now()
	if err := f.st.CreateSession(context.Background(), storage.Session{Hash: hash, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		f.t.Fatal(err)
	}
	c.cookies["verity_session"] = token
	return c
}

func (c *client) do(method, target string, form url.Values) response {
	c.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	req.Header.Set("X-Forwarded-For", c.ip)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := c.app.Test(req, -1)
	if err != nil {
		c.f.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.f.t.Fatal(err)
	}
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 || ck.Value == "" || (!ck.Expires.IsZero() && ck.Expires.Before(time.Now())) {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (c *client) get(target string) response { return c.do(http.MethodGet, target, nil) }

// post sends form with the CSRF token, fetching one first if needed.
func (c *client) post(target string, form url.Values) response {
	c.f.t.Helper()
	if c.cookies["verity_csrf"] == "" {
		c.get("/login")
	}
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.cookies["verity_csrf"])
	return c.do(http.MethodPost, target, form)
}

// postNoCSRF sends form without a token (but with the cookie).
func (c *client) postNoCSRF(target string, form url.Values) response {
	c.f.t.Helper()
	if c.cookies["verity_csrf"] == "" {
		c.get("/login")
	}
	if form == nil {
		form = url.Values{}
	}
	return c.do(http.MethodPost, target, form)
}

// events stores pageviews of site at ts with the verdicts given.
func (f *fixture) events(site storage.Site, ts time.Time, verdicts ...string) {
	f.t.Helper()
	var es []storage.Event
	for _, v := range verdicts {
		f.eventSeq++
		e := storage.Event{SiteID: site.ID, TS: ts.UTC().Truncate(time.Second), EventID: f.eventSeq, PageLoadID: uuid.New(), Seq: 1,
			Type: "pageview", Hostname: site.Domain, Pathname: "/", VisitorID: f.eventSeq, SessionID: f.eventSeq,
			Verdict: v, Ingest: "browser", PropKeys: []string{}, PropValues: []string{}, Reasons: []string{}}
		if v != "ok" {
			e.Class, e.Reasons = "sivt_automation", []string{"webdriver"}
		}
		es = append(es, e)
	}
	if err := f.st.InsertEvents(context.Background(), es); err != nil {
		f.t.Fatal(err)
	}
}
