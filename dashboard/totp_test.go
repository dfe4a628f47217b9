package dashboard

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestTwoFactorSignIn(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.signedIn(f.ownerA)

	r := c.post("/account/totp/setup", nil)
	secret := between(r.body, `<code data-testid="totp-secret">`, "</code>")
	if r.status != http.StatusOK || len(secret) < 16 || r.header.Get("Cache-Control") != "no-store" ||
		!strings.Contains(r.body, `<img src="data:image/png;base64,`) {
		t.Fatalf("setup: %d %q secret %q\n%s", r.status, r.header.Get("Cache-Control"), secret, between(r.body, `data-testid="totp-setup">`, "<form"))
	}
	// Not on until a code confirms the key: sign-in asks for none yet.
	if r := login(f.client(), f.ownerA.Email, testPassword); r.header.Get("Location") != "/sites" {
		t.Errorf("sign-in before confirming: Location %q, want /sites", r.header.Get("Location"))
	}
	if r := c.post("/account/totp/enable", url.Values{"code": {"000000"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("enable with a wrong code: %d, want 422", r.status)
	}
	code := func(at time.Time) string {
		s, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	if r := c.post("/account/totp/enable", url.Values{"code": {code(now)}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/account?done=totp-on" {
		t.Fatalf("enable: %d %q\n%s", r.status, r.header.Get("Location"), excerpt(r.body))
	}
	if r := c.get("/account"); !strings.Contains(r.body, `data-testid="totp-on"`) {
		t.Error("account page does not say two-factor sign-in is on")
	}

	// The password alone no longer signs in.
	b := f.client()
	r = login(b, f.ownerA.Email, testPassword)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login/code" {
		t.Fatalf("password step: %d %q", r.status, r.header.Get("Location"))
	}
	if r := b.get("/sites"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Errorf("a pending sign-in reached /sites: %d %q", r.status, r.header.Get("Location"))
	}
	if r := b.get("/login/code"); r.status != http.StatusOK || !strings.Contains(r.body, `data-testid="login-code"`) {
		t.Fatalf("code page: %d", r.status)
	}
	if r := b.post("/login/code", url.Values{"code": {"123456"}}); r.status != http.StatusUnauthorized {
		t.Errorf("wrong code: %d, want 401", r.status)
	}
	// The code of the current step was used to enable; the next step's
	// code (within the allowed skew) signs in, once.
	next := code(now.Add(totpPeriod * time.Second))
	if r := b.post("/login/code", url.Values{"code": {next}}); r.status != http.StatusSeeOther || r.header.Get("Location") != "/sites" {
		t.Fatalf("right code: %d %q\n%s", r.status, r.header.Get("Location"), excerpt(r.body))
	}
	if r := b.get("/sites"); r.status != http.StatusOK {
		t.Errorf("after the code: %d", r.status)
	}
	replay := f.client()
	login(replay, f.ownerA.Email, testPassword)
	if r := replay.post("/login/code", url.Values{"code": {next}}); r.status != http.StatusUnauthorized {
		t.Errorf("the same code again: %d, want 401", r.status)
	}
	// Without a pending sign-in the code step sends back to the password.
	if r := f.client().get("/login/code"); r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Errorf("code page without a pending sign-in: %d %q", r.status, r.header.Get("Location"))
	}

	// Turning it off needs the password.
	if r := c.post("/account/totp/disable", url.Values{"password": {"wrong password"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("disable with a wrong password: %d, want 422", r.status)
	}
	if r := c.post("/account/totp/disable", url.Values{"password": {testPassword}}); r.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.status)
	}
	if r := login(f.client(), f.ownerA.Email, testPassword); r.header.Get("Location") != "/sites" {
		t.Errorf("sign-in after turning off: Location %q, want /sites", r.header.Get("Location"))
	}
	got := strings.Join(auditActions(t, f, [16]byte{}), "\n")
	for _, want := range []string{"totp.enable ", "totp.disable ", "login.password_ok ", "login.ok with a two-factor code", "login.code_failed " + f.ownerA.Email} {
		if !strings.Contains(got, want) {
			t.Errorf("audit lacks %q:\n%s", want, got)
		}
	}
}

func TestTwoFactorCodesAreThrottled(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	c := f.signedIn(f.adminA)
	secret := between(c.post("/account/totp/setup", nil).body, `<code data-testid="totp-secret">`, "</code>")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := c.post("/account/totp/enable", url.Values{"code": {code}}); r.status != http.StatusSeeOther {
		t.Fatalf("enable: %d", r.status)
	}
	for i := range totpFailuresMax {
		// A new pending sign-in each time, from a new network: the limit is
		// the account's.
		b := f.client()
		login(b, f.adminA.Email, testPassword)
		if r := b.post("/login/code", url.Values{"code": {"000000"}}); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: %d", i+1, r.status)
		}
	}
	b := f.client()
	login(b, f.adminA.Email, testPassword)
	next, err := totp.GenerateCode(secret, time.Now().Add(totpPeriod*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if r := b.post("/login/code", url.Values{"code": {next}}); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("after %d wrong codes, the right one got %d, want 429 with Retry-After", totpFailuresMax, r.status)
	}
}
