package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/dashboard/views"
	"github.com/verityhq/verity/storage/chtest"
)

// syncBuffer is a log sink the test reads while the app may write.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// internalDetail stands for what an error may carry and a page must never
// show.
const internalDetail = "dial tcp 10.0.0.7:9000: password=hunter2"

// newApp builds the production app (on a fresh database) and adds routes
// that fail on purpose.
func newApp(t *testing.T, cfg Config) (*fiber.App, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	app := New(cfg, Deps{Store: chtest.Store(t)}, slog.New(slog.NewTextHandler(logs, nil))).App()
	app.Get("/test/error", func(*fiber.Ctx) error { return errors.New(internalDetail) })
	app.Get("/test/panic", func(*fiber.Ctx) error { panic(internalDetail) })
	app.Get("/test/bad-request", func(*fiber.Ctx) error {
		return fiber.NewError(fiber.StatusBadRequest, internalDetail)
	})
	app.Get("/test/nonce", func(c *fiber.Ctx) error {
		return render(c, templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
			_, err := io.WriteString(w, templ.GetNonce(ctx))
			return err
		}))
	})
	return app, logs
}

func do(t *testing.T, app *fiber.App, method, target string, body io.Reader) response {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	resp, err := app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

var cspPattern = regexp.MustCompile(`^default-src 'none'; script-src 'nonce-([A-Za-z0-9+/]{22}==)'; style-src 'self'; ` +
	`img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$`)

// wantHeaders are the security headers every response carries, exactly.
var wantHeaders = map[string]string{
	"X-Frame-Options":                   "DENY",
	"X-Content-Type-Options":            "nosniff",
	"Referrer-Policy":                   "same-origin",
	"X-Xss-Protection":                  "0",
	"Cross-Origin-Embedder-Policy":      "require-corp",
	"Cross-Origin-Opener-Policy":        "same-origin",
	"Cross-Origin-Resource-Policy":      "same-origin",
	"Origin-Agent-Cluster":              "?1",
	"X-Dns-Prefetch-Control":            "off",
	"X-Download-Options":                "noopen",
	"X-Permitted-Cross-Domain-Policies": "none",
}

// absentHeaders fingerprint the server or weaken the policy.
var absentHeaders = []string{"Server", "X-Powered-By", "Content-Security-Policy-Report-Only", "Strict-Transport-Security",
	"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset"}

// checkSecurityHeaders checks every security header and returns the CSP
// nonce, decoded.
func checkSecurityHeaders(t *testing.T, r response) []byte {
	t.Helper()
	for name, want := range wantHeaders {
		if got := r.header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want exactly [%q]", name, got, want)
		}
	}
	for _, name := range absentHeaders {
		if got, ok := r.header[http.CanonicalHeaderKey(name)]; ok {
			t.Errorf("%s = %q, want absent", name, got)
		}
	}
	csp := r.header.Values("Content-Security-Policy")
	if len(csp) != 1 {
		t.Fatalf("Content-Security-Policy = %q, want exactly one", csp)
	}
	m := cspPattern.FindStringSubmatch(csp[0])
	if m == nil {
		t.Fatalf("Content-Security-Policy = %q, want match for %s", csp[0], cspPattern)
	}
	nonce, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil || len(nonce) != 16 {
		t.Fatalf("CSP nonce %q: %d bytes, %v; want 16 bytes of base64", m[1], len(nonce), err)
	}
	return nonce
}

func stylesheet(t *testing.T) (url string, content []byte) {
	t.Helper()
	content, err := fs.ReadFile(views.Static, "dashboard.css")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return "/static/dashboard.css?v=" + hex.EncodeToString(sum[:8]), content
}

func TestLoginPageMarkup(t *testing.T) {
	app, logs := newApp(t, DefaultConfig())
	r := do(t, app, http.MethodGet, "/login", nil)

	if r.status != http.StatusOK {
		t.Errorf("status = %d, want 200", r.status)
	}
	if got := r.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
	}
	nonce := checkSecurityHeaders(t, r)
	cssURL, _ := stylesheet(t)
	for _, want := range []string{
		"<!doctype html>",
		`<html lang="en">`,
		`<meta charset="utf-8">`,
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"<title>Sign in · Verity</title>",
		`<link rel="stylesheet" href="` + cssURL + `">`,
		`<script src="` + views.AssetURL("htmx.min.js") + `" defer nonce="` + base64.StdEncoding.EncodeToString(nonce) + `"></script>`,
		`data-testid="login"`,
		`<form method="post" action="/login"`,
		`<input type="hidden" name="_csrf" value="`,
		`autocomplete="current-password"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("body lacks %q:\n%s", want, r.body)
		}
	}
	// Inline-free: the CSP allows no inline style or script.
	for _, unwanted := range []string{"<style", "style=", "<script>"} {
		if strings.Contains(r.body, unwanted) {
			t.Errorf("body contains %q:\n%s", unwanted, r.body)
		}
	}
	if got := logs.String(); got != "" {
		t.Errorf("logged %q, want nothing", got)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	app, _ := newApp(t, DefaultConfig())
	cssURL, _ := stylesheet(t)
	for _, tc := range []struct {
		method, target string
		wantStatus     int
	}{
		{http.MethodGet, "/", http.StatusSeeOther},
		{http.MethodHead, "/", http.StatusSeeOther},
		{http.MethodGet, "/login", http.StatusOK},
		{http.MethodGet, "/healthz", http.StatusOK},
		{http.MethodGet, cssURL, http.StatusOK},
		{http.MethodGet, "/no-such-page", http.StatusNotFound},
		{http.MethodPost, "/", http.StatusForbidden}, // no CSRF token
		{http.MethodGet, "/test/error", http.StatusInternalServerError},
		{http.MethodGet, "/test/panic", http.StatusInternalServerError},
	} {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			r := do(t, app, tc.method, tc.target, nil)
			if r.status != tc.wantStatus {
				t.Errorf("status = %d, want %d", r.status, tc.wantStatus)
			}
			checkSecurityHeaders(t, r)
		})
	}
}

func TestCSPNonceIsFreshAndReachesComponents(t *testing.T) {
	app, _ := newApp(t, DefaultConfig())

	first := checkSecurityHeaders(t, do(t, app, http.MethodGet, "/login", nil))
	second := checkSecurityHeaders(t, do(t, app, http.MethodGet, "/login", nil))
	if bytes.Equal(first, second) {
		t.Errorf("two requests got the same nonce %x", first)
	}

	r := do(t, app, http.MethodGet, "/test/nonce", nil)
	nonce := checkSecurityHeaders(t, r)
	if want := base64.StdEncoding.EncodeToString(nonce); r.body != want {
		t.Errorf("templ.GetNonce in the component = %q, want the header's nonce %q", r.body, want)
	}
}

func TestHSTSFollowsPublicURL(t *testing.T) {
	for _, tc := range []struct {
		publicURL string
		want      []string
	}{
		{"http://localhost:8081", nil},
		{"https://stats.example.com", []string{"max-age=31536000"}},
	} {
		t.Run(tc.publicURL, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.PublicURL = tc.publicURL
			app, _ := newApp(t, cfg)
			// A plain-http request, as from a TLS-terminating proxy that
			// sets no X-Forwarded-Proto.
			r := do(t, app, http.MethodGet, "/login", nil)
			if got := r.header.Values("Strict-Transport-Security"); !slices.Equal(got, tc.want) {
				t.Errorf("Strict-Transport-Security = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStaticFilesAreEmbeddedAndCached(t *testing.T) {
	app, _ := newApp(t, DefaultConfig())
	cssURL, content := stylesheet(t)

	r := do(t, app, http.MethodGet, cssURL, nil)
	if r.status != http.StatusOK {
		t.Errorf("status = %d, want 200", r.status)
	}
	for name, want := range map[string]string{
		"Content-Type":   "text/css; charset=utf-8",
		"Cache-Control":  "public, max-age=31536000",
		"Content-Length": strconv.Itoa(len(content)),
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if r.body != string(content) {
		t.Errorf("body differs from the embedded dashboard.css (%d vs %d bytes)", len(r.body), len(content))
	}
}

func TestErrorPages(t *testing.T) {
	for _, tc := range []struct {
		name           string
		method, target string
		wantStatus     int
		wantTitle      string
		wantMessage    string
		wantLogged     bool
	}{
		{"unknown route", http.MethodGet, "/no/such/page", 404, "Page not found",
			"There is nothing at this address. Check the link for a typo.", false},
		{"unknown route with markup", http.MethodGet, "/%3Cscript%3Ealert(1)%3C/script%3E", 404, "Page not found",
			"There is nothing at this address. Check the link for a typo.", false},
		{"missing static file", http.MethodGet, "/static/missing.css", 404, "Page not found",
			"There is nothing at this address. Check the link for a typo.", false},
		{"static directory", http.MethodGet, "/static/", 403, "Not allowed",
			"You do not have permission to do this.", false},
		{"POST without a CSRF token", http.MethodPost, "/", 403, "Form expired",
			"This form has expired or did not come from this dashboard. Go back, reload the page and try again.", false},
		{"GET to a POST-only page", http.MethodGet, "/logout", 405, "Not possible here",
			"This page cannot be used that way. Go back and try again from the page itself.", false},
		{"client error with internal text", http.MethodGet, "/test/bad-request", 400, "Bad Request",
			"The dashboard could not handle this request.", false},
		{"handler error", http.MethodGet, "/test/error", 500, "Something went wrong",
			"The dashboard ran into a problem and has logged it. Try again in a moment.", true},
		{"handler panic", http.MethodGet, "/test/panic", 500, "Something went wrong",
			"The dashboard ran into a problem and has logged it. Try again in a moment.", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, logs := newApp(t, DefaultConfig())
			r := do(t, app, tc.method, tc.target, nil)

			if r.status != tc.wantStatus {
				t.Errorf("status = %d, want %d", r.status, tc.wantStatus)
			}
			if got := r.header.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
			}
			checkSecurityHeaders(t, r)
			status := strconv.Itoa(tc.wantStatus)
			for _, want := range []string{
				"<!doctype html>",
				"<title>" + tc.wantTitle + " · Verity</title>",
				`<section data-testid="error-page" data-status="` + status + `">`,
				`<p class="status">` + status + "</p>",
				`<h1 data-testid="error-title">` + tc.wantTitle + "</h1>",
				`<p data-testid="error-message">` + tc.wantMessage + "</p>",
				`<a href="/">`,
			} {
				if !strings.Contains(r.body, want) {
					t.Errorf("body lacks %q:\n%s", want, r.body)
				}
			}
			for _, leak := range []string{"hunter2", "10.0.0.7", "Cannot ", "<script>", "goroutine", ".go:", "panic"} {
				if strings.Contains(r.body, leak) {
					t.Errorf("body leaks %q:\n%s", leak, r.body)
				}
			}

			logged := logs.String()
			if !tc.wantLogged {
				if logged != "" {
					t.Errorf("logged %q, want nothing for a %d", logged, tc.wantStatus)
				}
				return
			}
			for _, want := range []string{
				"level=ERROR msg=\"request failed\" method=GET path=" + tc.target + " status=500",
				"hunter2",
			} {
				if !strings.Contains(logged, want) {
					t.Errorf("log lacks %q:\n%s", want, logged)
				}
			}
			if strings.HasSuffix(tc.target, "panic") && !strings.Contains(logged, "msg=panic") {
				t.Errorf("panic not logged with its stack:\n%s", logged)
			}
		})
	}
}

// A request that fasthttp rejects before routing never ran securityHeaders,
// so it gets plain text rather than an HTML page without a CSP. app.Test
// returns fasthttp's error instead of the response here, so these requests
// go over a loopback connection to the same app.
func TestRejectedBeforeRoutingIsPlainText(t *testing.T) {
	for _, tc := range []struct {
		name       string
		request    string
		wantStatus int
		wantBody   string
	}{
		{"body over the limit", "POST / HTTP/1.1\r\nHost: dashboard\r\nContent-Length: 300000\r\n\r\n",
			http.StatusRequestEntityTooLarge, "Request too large\n"},
		{"malformed request", "GET / HTTP/1.1\r\nHost: dashboard\r\nContent-Length: ten\r\n\r\n",
			http.StatusBadRequest, "Bad Request\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, logs := newApp(t, DefaultConfig())
			r := rawExchange(t, app, tc.request)

			if r.status != tc.wantStatus {
				t.Errorf("status = %d, want %d", r.status, tc.wantStatus)
			}
			if got := r.header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/plain; charset=utf-8", got)
			}
			if got := r.header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
			if r.body != tc.wantBody {
				t.Errorf("body = %q, want %q", r.body, tc.wantBody)
			}
			if got := logs.String(); got != "" {
				t.Errorf("logged %q, want nothing", got)
			}
		})
	}
}

// rawExchange serves app on a loopback listener and sends request as is.
func rawExchange(t *testing.T, app *fiber.App, request string) response {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	t.Cleanup(func() {
		if err := app.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestHealthz(t *testing.T) {
	app, _ := newApp(t, DefaultConfig())
	r := do(t, app, http.MethodGet, "/healthz", nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/json" || r.body != `{"status":"ok"}` {
		t.Errorf("got %d %q %q, want 200 application/json {\"status\":\"ok\"}", r.status, r.header.Get("Content-Type"), r.body)
	}
}

// render refuses to serve HTML when the security middleware did not run.
func TestRenderNeedsNonce(t *testing.T) {
	bare := fiber.New()
	bare.Get("/", func(c *fiber.Ctx) error { return render(c, views.LoginPage(views.Login{})) })
	r := do(t, bare, http.MethodGet, "/", nil)
	if r.status != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", r.status)
	}
	if strings.Contains(r.body, `data-testid="login"`) {
		t.Errorf("page rendered without a CSP nonce:\n%s", r.body)
	}
}
