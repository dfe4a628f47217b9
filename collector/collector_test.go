package collector

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/storage"
)

type fakeQueue struct{ nearlyFull bool }

func (fakeQueue) Enqueue(...storage.Event) error { return nil }
func (q fakeQueue) SpoolNearlyFull() bool        { return q.nearlyFull }

type fakeDB struct{ err error }

func (d fakeDB) Ping(context.Context) error { return d.err }

func TestHealthAndReadiness(t *testing.T) {
	down := errors.New("connection refused")
	cases := []struct {
		name       string
		db         error
		spoolFull  bool
		method     string
		path       string
		wantStatus int
		wantBody   string
	}{
		{"healthz", nil, false, "GET", "/healthz", 200, `{"status":"ok"}`},
		{"ready", nil, false, "GET", "/readyz", 200, `{"clickhouse":"ok","spool":"ok"}`},
		{"ClickHouse down, spool has room: still ready", down, false, "GET", "/readyz", 200, `{"clickhouse":"unreachable","spool":"ok"}`},
		{"spool nearly full, ClickHouse up: ready", nil, true, "GET", "/readyz", 200, `{"clickhouse":"ok","spool":"nearly full"}`},
		{"both: not ready", down, true, "GET", "/readyz", 503, `{"clickhouse":"unreachable","spool":"nearly full"}`},
		{"unknown route", nil, false, "GET", "/nope", 404, `{"error":{"code":"not_found","message":"Cannot GET /nope"}}`},
		{"wrong method", nil, false, "POST", "/healthz", 405, `{"error":{"code":"method_not_allowed","message":"Method Not Allowed"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newTestHandler(t, Deps{Queue: fakeQueue{nearlyFull: tc.spoolFull}, DB: fakeDB{err: tc.db}})
			resp, err := h.App().Test(httptest.NewRequest(tc.method, tc.path, nil))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus || string(body) != tc.wantBody {
				t.Fatalf("%s %s = %d %s, want %d %s", tc.method, tc.path, resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type = %q, want application/json", ct)
			}
		})
	}
}

// An internal error reaches the client as a generic 500: its text may hold
// details that are not the client's business.
func TestInternalErrorsAreNotShown(t *testing.T) {
	h := newTestHandler(t, Deps{Queue: fakeQueue{}, DB: fakeDB{}})
	app := h.App()
	app.Get("/boom", func(*fiber.Ctx) error { return errors.New("dial tcp 10.0.0.7:9000: secret detail") })
	resp, err := app.Test(httptest.NewRequest("GET", "/boom", nil))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 500 || body.Error.Code != "internal" || body.Error.Message != "internal error" {
		t.Fatalf("got %d %+v, want 500 internal/internal error", resp.StatusCode, body)
	}
	// A panicking handler is a 500 too, and the collector lives on.
	app.Get("/panic", func(*fiber.Ctx) error { panic("boom") })
	resp, err = app.Test(httptest.NewRequest("GET", "/panic", nil))
	if err != nil || resp.StatusCode != 500 {
		t.Fatalf("panic: %v %v, want a 500", resp, err)
	}
	if resp, err := app.Test(httptest.NewRequest("GET", "/healthz", nil)); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after a panic /healthz = %v %v", resp, err)
	}
}

// newTestHandler builds the production handler with test keys, a quiet log
// and no sites unless d names a source.
func newTestHandler(t testing.TB, d Deps) *Handler {
	t.Helper()
	if d.Keys == nil {
		master := make([]byte, 32)
		for i := range master {
			master[i] = byte(i + 1)
		}
		k, err := abuse.NewKeyring(master)
		if err != nil {
			t.Fatal(err)
		}
		d.Keys = k
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Sites == nil {
		d.Sites = &fakeSites{}
	}
	if d.Rejections == nil {
		d.Rejections = &fakeRejectionSink{}
	}
	h, err := New(DefaultConfig(), d)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Over the per-network rate, a client gets 429 with Retry-After, counted.
func TestChallengeRateLimit(t *testing.T) {
	sink := &fakeRejectionSink{}
	h := newTestHandler(t, Deps{Queue: fakeQueue{}, DB: fakeDB{}, Rejections: sink})
	h.cfg.ChallengeRate = 3
	// app.Test's peer is 0.0.0.0: trusting it as a proxy lets the test name
	// client addresses in X-Forwarded-For, as a real reverse proxy would.
	h.cfg.TrustedProxies = []string{"0.0.0.0"}
	app := h.App()
	send := func(ip string) *http.Response {
		req := httptest.NewRequest("POST", "/api/challenge", strings.NewReader(`{"site":"pk_none","url":"https://a.example/"}`))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for i := 0; i < 3; i++ {
		if resp := send("198.51.100.7"); resp.StatusCode != 404 {
			t.Fatalf("request %d: %d, want 404 (unknown site) under the limit", i+1, resp.StatusCode)
		}
	}
	resp := send("198.51.100.99") // same /24
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("4th request from the same /24: %d Retry-After=%q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `"code":"rate_limited"`) {
		t.Fatalf("429 body %s", body)
	}
	if resp := send("203.0.113.5"); resp.StatusCode != 404 {
		t.Fatalf("another network: %d, want its own budget", resp.StatusCode)
	}
	if err := h.rejects.flush(context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	var limited uint64
	for _, r := range sink.got {
		if r.Reason == "rate_limited" {
			limited += r.Count
		}
	}
	if limited != 1 {
		t.Fatalf("rate_limited counted %d times, want 1", limited)
	}
}

// Without a trusted proxy, X-Forwarded-For is the client's word and is
// ignored: a spoofed header cannot buy a fresh rate budget.
func TestForwardedForIgnoredWithoutTrustedProxy(t *testing.T) {
	h := newTestHandler(t, Deps{Queue: fakeQueue{}, DB: fakeDB{}})
	h.cfg.ChallengeRate = 1
	app := h.App()
	for i, ip := range []string{"198.51.100.1", "203.0.113.1"} {
		req := httptest.NewRequest("POST", "/api/challenge", strings.NewReader(`{"site":"pk_none","url":"https://a.example/"}`))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{404, 429}[i]; resp.StatusCode != want {
			t.Fatalf("request %d with X-Forwarded-For %s: %d, want %d", i+1, ip, resp.StatusCode, want)
		}
	}
}
