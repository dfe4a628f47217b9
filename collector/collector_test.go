package collector

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
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
}

// newTestHandler builds the production handler with test keys, a quiet log
// and no sites unless d names a source.
func newTestHandler(t *testing.T, d Deps) *Handler {
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
