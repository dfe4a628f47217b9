package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// routeCase is one tenant-scoped route. path builds the URL for a tenant
// and its site, creating whatever throwaway object the route acts on, so
// that every case can run on one fixture without one write changing what
// the next case sees.
type routeCase struct {
	name   string
	method string
	path   func(f *fixture, t storage.Tenant, s storage.Site) string
	form   func(f *fixture, s storage.Site) url.Values
	// ok is the status an owner or admin gets; a viewer gets it too for a
	// GET, and 403 for a write.
	ok int
}

func (rc routeCase) write() bool { return rc.method != http.MethodGet }

var scopedRoutes = []routeCase{
	{"overview", http.MethodGet, func(_ *fixture, _ storage.Tenant, s storage.Site) string { return "/sites/" + s.ID.String() }, nil, 200},
	{"overview with a period and view", http.MethodGet, func(_ *fixture, _ storage.Tenant, s storage.Site) string {
		return "/sites/" + s.ID.String() + "?period=7d&view=suspicious"
	}, nil, 200},
	{"overview with filters and tabs", http.MethodGet, func(_ *fixture, _ storage.Tenant, s storage.Site) string {
		return "/sites/" + s.ID.String() + "?f=source:Google&devices=browser&prop=plan"
	}, nil, 200},
	{"export", http.MethodGet, func(_ *fixture, _ storage.Tenant, s storage.Site) string {
		return "/sites/" + s.ID.String() + "/export/source.csv?period=7d"
	}, nil, 200},
	{"realtime", http.MethodGet, func(_ *fixture, _ storage.Tenant, s storage.Site) string {
		return "/sites/" + s.ID.String() + "/realtime"
	}, nil, 200},
	{"settings", http.MethodGet, func(_ *fixture, _ storage.Tenant, s storage.Site) string {
		return "/sites/" + s.ID.String() + "/settings"
	}, nil, 200},
	{"save settings", http.MethodPost, func(_ *fixture, _ storage.Tenant, s storage.Site) string {
		return "/sites/" + s.ID.String() + "/settings"
	},
		func(_ *fixture, s storage.Site) url.Values {
			return url.Values{"name": {s.Name}, "domain": {s.Domain}, "origins": {"https://" + s.Domain}, "retention": {"0"}}
		}, 303},
	{"rotate public key", http.MethodPost, func(_ *fixture, _ storage.Tenant, s storage.Site) string {
		return "/sites/" + s.ID.String() + "/keys/public"
	}, nil, 303},
	{"rotate secret key", http.MethodPost, func(_ *fixture, _ storage.Tenant, s storage.Site) string {
		return "/sites/" + s.ID.String() + "/keys/secret"
	}, nil, 200},
	{"create site", http.MethodPost, func(_ *fixture, t storage.Tenant, _ storage.Site) string {
		return "/tenants/" + t.ID.String() + "/sites"
	},
		func(*fixture, storage.Site) url.Values { return url.Values{"domain": {"new.example"}} }, 200},
	{"members", http.MethodGet, func(_ *fixture, t storage.Tenant, _ storage.Site) string {
		return "/tenants/" + t.ID.String() + "/members"
	}, nil, 200},
	{"invite", http.MethodPost, func(_ *fixture, t storage.Tenant, _ storage.Site) string {
		return "/tenants/" + t.ID.String() + "/invites"
	},
		func(*fixture, storage.Site) url.Values {
			return url.Values{"email": {"new@example.com"}, "role": {"viewer"}}
		}, 200},
	{"withdraw invite", http.MethodPost, func(f *fixture, t storage.Tenant, _ storage.Site) string {
		inv := storage.Invite{ID: uuid.New(), Hash: uuid.NewString(), TenantID: t.ID, Email: "x@example.com", Role: storage.RoleViewer,
			CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour), State: storage.InvitePending}
		if err := f.st.PutInvite(context.Background(), inv); err != nil {
			f.t.Fatal(err)
		}
		return "/tenants/" + t.ID.String() + "/invites/" + inv.ID.String() + "/revoke"
	}, nil, 303},
	{"change role", http.MethodPost, func(f *fixture, t storage.Tenant, _ storage.Site) string {
		return "/tenants/" + t.ID.String() + "/members/" + f.member(t, storage.RoleViewer).ID.String() + "/role"
	}, func(*fixture, storage.Site) url.Values { return url.Values{"role": {"admin"}} }, 303},
	{"remove member", http.MethodPost, func(f *fixture, t storage.Tenant, _ storage.Site) string {
		return "/tenants/" + t.ID.String() + "/members/" + f.member(t, storage.RoleViewer).ID.String() + "/remove"
	}, nil, 303},
	{"tokens", http.MethodGet, func(_ *fixture, t storage.Tenant, _ storage.Site) string {
		return "/tenants/" + t.ID.String() + "/tokens"
	}, nil, 200},
	{"create token", http.MethodPost, func(_ *fixture, t storage.Tenant, _ storage.Site) string {
		return "/tenants/" + t.ID.String() + "/tokens"
	},
		func(_ *fixture, s storage.Site) url.Values {
			return url.Values{"name": {"ci"}, "site": {s.ID.String()}}
		}, 200},
	{"revoke token", http.MethodPost, func(f *fixture, t storage.Tenant, s storage.Site) string {
		tok := storage.APIToken{ID: uuid.New(), TenantID: t.ID, Name: "old", Hash: uuid.NewString(), SiteIDs: []uuid.UUID{s.ID}, CreatedAt: time.Now()}
		if err := f.st.PutAPIToken(context.Background(), tok); err != nil {
			f.t.Fatal(err)
		}
		return "/tenants/" + t.ID.String() + "/tokens/" + tok.ID.String() + "/revoke"
	}, nil, 303},
}

func (rc routeCase) send(c *client, f *fixture, t storage.Tenant, s storage.Site) response {
	path := rc.path(f, t, s)
	if !rc.write() {
		return c.get(path)
	}
	var form url.Values
	if rc.form != nil {
		form = rc.form(f, s)
	}
	return c.post(path, form)
}

// TestRouteAccess is the isolation matrix: every tenant-scoped route, for
// each role in tenant A on A's objects (owners and admins may, viewers only
// read) and on tenant B's objects (404, exactly like a site that does not
// exist), signed out (to sign-in, or 401 for a write), and with a
// malformed or unknown id (404).
func TestRouteAccess(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	roles := []struct {
		name string
		user storage.User
	}{{"owner", f.ownerA}, {"admin", f.adminA}, {"viewer", f.viewerA}}
	for _, rc := range scopedRoutes {
		t.Run(rc.name, func(t *testing.T) {
			for _, role := range roles {
				c := f.signedIn(role.user)
				want := rc.ok
				if role.name == "viewer" && rc.write() {
					want = http.StatusForbidden
				}
				if r := rc.send(c, f, f.tenantA, f.siteA); r.status != want {
					t.Errorf("%s on own tenant: status %d, want %d\n%s", role.name, r.status, want, excerpt(r.body))
				}
				if r := rc.send(c, f, f.tenantB, f.siteB); r.status != http.StatusNotFound {
					t.Errorf("%s on another tenant: status %d, want 404\n%s", role.name, r.status, excerpt(r.body))
				}
			}
			// B's owner on A's objects: the other direction.
			if r := rc.send(f.signedIn(f.ownerB), f, f.tenantA, f.siteA); r.status != http.StatusNotFound {
				t.Errorf("other tenant's owner: status %d, want 404", r.status)
			}
			anon := f.client()
			r := rc.send(anon, f, f.tenantA, f.siteA)
			wantAnon := http.StatusSeeOther
			if rc.write() {
				wantAnon = http.StatusUnauthorized
			}
			if r.status != wantAnon || (!rc.write() && r.header.Get("Location") != "/login") {
				t.Errorf("signed out: status %d Location %q, want %d", r.status, r.header.Get("Location"), wantAnon)
			}
			// An unknown id, and one that is not a UUID, in place of A's.
			for _, bad := range []string{uuid.NewString(), "1", "..%2f"} {
				p := rc.path(f, f.tenantA, f.siteA)
				p = strings.Replace(strings.Replace(p, f.siteA.ID.String(), bad, 1), f.tenantA.ID.String(), bad, 1)
				c := f.signedIn(f.ownerA)
				var got response
				if rc.write() {
					got = c.post(p, nil)
				} else {
					got = c.get(p)
				}
				if got.status != http.StatusNotFound {
					t.Errorf("owner with id %q: status %d, want 404", bad, got.status)
				}
			}
			if rc.write() {
				// CSRF: the same write without the token is refused before
				// anything else, whoever asks.
				if r := f.signedIn(f.ownerA).postNoCSRF(rc.path(f, f.tenantA, f.siteA), nil); r.status != http.StatusForbidden || !strings.Contains(r.body, "Form expired") {
					t.Errorf("owner without CSRF token: status %d, want 403 Form expired", r.status)
				}
				// A token from another browser (cookie and field differ).
				c, other := f.signedIn(f.ownerA), f.client()
				other.get("/login")
				c.get("/sites")
				form := url.Values{"_csrf": {other.cookies["verity_csrf"]}}
				if r := c.do(http.MethodPost, rc.path(f, f.tenantA, f.siteA), form); r.status != http.StatusForbidden {
					t.Errorf("owner with another browser's CSRF token: status %d, want 403", r.status)
				}
			}
		})
	}
}

// TestAccountRoutes covers the routes that are not about one tenant.
func TestAccountRoutes(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	for _, tc := range []struct {
		name       string
		send       func(c *client) response
		signedIn   int
		signedOut  int
		wantInBody string
	}{
		{"home", func(c *client) response { return c.get("/") }, 303, 303, ""},
		{"login page", func(c *client) response { return c.get("/login") }, 303, 200, ""},
		{"sites", func(c *client) response { return c.get("/sites") }, 200, 303, "acme.example"},
		{"account", func(c *client) response { return c.get("/account") }, 200, 303, "Change password"},
		{"change password, wrong current", func(c *client) response {
			return c.post("/account/password", url.Values{"current": {"wrong password!"}, "new": {"another long one"}, "confirm": {"another long one"}})
		}, 422, 401, "The current password is wrong."},
		{"change password, too short", func(c *client) response {
			return c.post("/account/password", url.Values{"current": {testPassword}, "new": {"short"}, "confirm": {"short"}})
		}, 422, 401, "password is too short"},
		{"logout", func(c *client) response { return c.post("/logout", nil) }, 303, 401, ""},
		{"log out everywhere", func(c *client) response { return c.post("/account/sessions/revoke", nil) }, 303, 401, ""},
		{"two-factor setup", func(c *client) response { return c.post("/account/totp/setup", nil) }, 200, 401, "totp-secret"},
		{"two-factor enable, wrong code", func(c *client) response { return c.post("/account/totp/enable", url.Values{"code": {"000000"}}) }, 422, 401, "That code did not match."},
		{"two-factor disable, wrong password", func(c *client) response {
			return c.post("/account/totp/disable", url.Values{"password": {"wrong password"}})
		}, 422, 401, "The password is wrong"},
		{"two-factor code page without a pending sign-in", func(c *client) response { return c.get("/login/code") }, 303, 303, ""},
		{"two-factor code without a pending sign-in", func(c *client) response { return c.post("/login/code", url.Values{"code": {"1"}}) }, 401, 401, ""},
		{"invite link, unknown", func(c *client) response { return c.get("/invite/nope") }, 404, 404, "Invite not valid"},
		{"accept unknown invite", func(c *client) response { return c.post("/invite/nope", nil) }, 404, 404, "Invite not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := tc.send(f.signedIn(f.viewerA)); r.status != tc.signedIn || !strings.Contains(r.body, tc.wantInBody) {
				t.Errorf("signed in: status %d, want %d with %q\n%s", r.status, tc.signedIn, tc.wantInBody, excerpt(r.body))
			}
			if r := tc.send(f.client()); r.status != tc.signedOut {
				t.Errorf("signed out: status %d, want %d", r.status, tc.signedOut)
			}
		})
	}
	// The sites page lists the user's tenants' sites only.
	r := f.signedIn(f.viewerA).get("/sites")
	if !strings.Contains(r.body, f.siteA.ID.String()) || strings.Contains(r.body, f.siteB.ID.String()) || strings.Contains(r.body, "Beta") {
		t.Errorf("viewer of A sees B's site or misses A's:\n%s", excerpt(r.body))
	}
}

func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}
