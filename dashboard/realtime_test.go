package dashboard

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// The realtime page counts the last 5 and 30 minutes' visitors and lists
// the current pages and sources; it refreshes itself with htmx and, without
// JavaScript, with a refresh inside <noscript>.
func TestRealtime(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	now := time.Now().UTC()
	f.overviewData(now) // visits 1 and 20 minutes ago, others hours ago
	c := f.signedIn(f.viewerA)
	r := c.get("/sites/" + f.siteA.ID.String() + "/realtime")
	if r.status != http.StatusOK {
		t.Fatalf("%d\n%s", r.status, excerpt(r.body))
	}
	if got := between(between(r.body, `data-testid="visitors-5m"`, "</div>"), "<dd>", "</dd>"); got != "1" {
		t.Errorf("visitors in 5 minutes = %q, want 1", got)
	}
	if got := between(between(r.body, `data-testid="visitors-30m"`, "</div>"), "<dd>", "</dd>"); got != "2" {
		t.Errorf("visitors in 30 minutes = %q, want 2", got)
	}
	if got := panelRows(r.body, "pages"); strings.Join(got, ",") != "/|2|2,/pricing|1|1" {
		t.Errorf("pages = %q", got)
	}
	if got := panelRows(r.body, "sources"); strings.Join(got, ",") != "Google|2|3" {
		t.Errorf("sources = %q", got)
	}
	if link := rowLink(t, r.body, "sources", "Google"); link != "/sites/"+f.siteA.ID.String()+"?f=source%3AGoogle&period=today" {
		t.Errorf("source row links to %q", link)
	}
	for _, want := range []string{
		`hx-get="/sites/` + f.siteA.ID.String() + `/realtime" hx-trigger="every 10s" hx-select="#live"`,
		`<noscript><meta http-equiv="refresh" content="10"></noscript>`,
		`aria-current="page" data-testid="nav-realtime"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("lacks %s", want)
		}
	}
	if r := c.get("/sites/" + f.siteA.ID.String() + "/realtime?period=7d"); r.status != http.StatusBadRequest {
		t.Errorf("realtime with parameters: %d, want 400", r.status)
	}
}
