package collector

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/storage"
)

type busyQueue struct{}

func (busyQueue) Enqueue(...storage.Event) error { return storage.ErrBusy }
func (busyQueue) SpoolNearlyFull() bool          { return true }

// A full ingest queue answers 503 with Retry-After; nothing is accepted.
func TestQueueFullIs503(t *testing.T) {
	site := storage.Site{ID: uuid.New(), PublicKey: "pk_busy", AllowedOrigins: []string{"https://a.example"}}
	h := newTestHandler(t, Deps{Queue: busyQueue{}, DB: fakeDB{}, Sites: &fakeSites{sites: []storage.Site{site}}})
	if err := h.sites.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	token, claims, err := h.issuer.Issue(abuse.IssueRequest{SiteID: site.ID, UserAgent: ua, Origin: "https://a.example"})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := abuse.SolvePoW(claims)
	body := fmt.Sprintf(`{"token":%q,"n":%d,"solve_ms":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example/"}]}`, token, n)
	req := httptest.NewRequest("POST", "/api/event", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", "https://a.example")
	req.Header.Set("User-Agent", ua)
	resp, err := h.App().Test(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" || !strings.Contains(string(b), `"code":"busy"`) {
		t.Fatalf("queue full: %d Retry-After=%q %s; want 503, Retry-After 5, code busy", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}

// A body over collector.body_limit is refused with a JSON 413 before it is
// read into memory. Over a real connection: app.Test hides this case.
func TestOversizedBodyIs413(t *testing.T) {
	h := newTestHandler(t, Deps{Queue: fakeQueue{}, DB: fakeDB{}})
	app := h.App()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	defer app.Shutdown()
	big := strings.Repeat("x", DefaultConfig().BodyLimit+1)
	resp, err := http.Post("http://"+ln.Addr().String()+"/api/event", "text/plain", strings.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), `"code":"body_too_large"`) {
		t.Fatalf("oversized body: %d %s; want 413 body_too_large", resp.StatusCode, b)
	}
}

type recordingQueue struct{ events []storage.Event }

func (q *recordingQueue) Enqueue(ev ...storage.Event) error {
	q.events = append(q.events, ev...)
	return nil
}
func (*recordingQueue) SpoolNearlyFull() bool { return false }

// Fiber reuses request buffers: nothing queued may point into them. The
// first request's event must be unchanged after a second request.
func TestQueuedEventsDoNotAliasRequestBuffers(t *testing.T) {
	site := storage.Site{ID: uuid.New(), PublicKey: "pk_alias", AllowedOrigins: []string{"https://a.example"}}
	q := &recordingQueue{}
	h := newTestHandler(t, Deps{Queue: q, DB: fakeDB{}, Sites: &fakeSites{sites: []storage.Site{site}}})
	if err := h.sites.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	app := h.App()
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	send := func(path, title string) {
		token, claims, err := h.issuer.Issue(abuse.IssueRequest{SiteID: site.ID, UserAgent: ua, Origin: "https://a.example"})
		if err != nil {
			t.Fatal(err)
		}
		n, _ := abuse.SolvePoW(claims)
		body := fmt.Sprintf(`{"token":%q,"n":%d,"solve_ms":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example%s","referrer":"https://news.example/","title":%q,"screen_w":1,"lang":"en","tz":"UTC"}]}`, token, n, path, title)
		req := httptest.NewRequest("POST", "/api/event", strings.NewReader(body))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Origin", "https://a.example")
		req.Header.Set("User-Agent", ua)
		if resp, err := app.Test(req); err != nil || resp.StatusCode != 202 {
			t.Fatalf("send %s: %v %v", path, resp, err)
		}
	}
	send("/first-page", "First title")
	first := q.events[0]
	snapshot := fmt.Sprintf("%+v", first)
	send("/second-pg", "Other title")
	if got := fmt.Sprintf("%+v", q.events[0]); got != snapshot {
		t.Fatalf("the first event changed after a second request:\nbefore %s\nafter  %s", snapshot, got)
	}
	if first.Pathname != "/first-page" || first.Title != "First title" || first.Source != "news.example" {
		t.Fatalf("first event = %+v", first)
	}
}
