package dashboard

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// siteRecorder is a Stats that passes every call to the store and records
// the site each was about.
type siteRecorder struct {
	Stats
	mu    sync.Mutex
	sites map[string][]uuid.UUID // method -> sites asked about
}

func (r *siteRecorder) saw(method string, site uuid.UUID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sites[method] = append(r.sites[method], site)
}

func (r *siteRecorder) Aggregate(ctx context.Context, q storage.Query) (storage.Aggregate, error) {
	r.saw("Aggregate", q.SiteID)
	return r.Stats.Aggregate(ctx, q)
}

func (r *siteRecorder) Timeseries(ctx context.Context, q storage.Query, i storage.Interval) ([]storage.Point, error) {
	r.saw("Timeseries", q.SiteID)
	return r.Stats.Timeseries(ctx, q, i)
}

func (r *siteRecorder) Breakdown(ctx context.Context, q storage.Query, d storage.Dimension, limit int) (storage.Breakdown, error) {
	r.saw("Breakdown", q.SiteID)
	return r.Stats.Breakdown(ctx, q, d, limit)
}

func (r *siteRecorder) PropKeys(ctx context.Context, q storage.Query, limit int) ([]storage.PropKey, error) {
	r.saw("PropKeys", q.SiteID)
	return r.Stats.PropKeys(ctx, q, limit)
}

func (r *siteRecorder) Vitals(ctx context.Context, q storage.Query, limit int) (storage.Vitals, error) {
	r.saw("Vitals", q.SiteID)
	return r.Stats.Vitals(ctx, q, limit)
}

func (r *siteRecorder) DOMFindings(ctx context.Context, q storage.Query, limit int) (storage.DOMFindings, error) {
	r.saw("DOMFindings", q.SiteID)
	return r.Stats.DOMFindings(ctx, q, limit)
}

func (r *siteRecorder) TrafficQuality(ctx context.Context, site uuid.UUID, from, to time.Time) (storage.QualityReport, error) {
	r.saw("TrafficQuality", site)
	return r.Stats.TrafficQuality(ctx, site, from, to)
}

func (r *siteRecorder) Realtime(ctx context.Context, site uuid.UUID, now time.Time) (storage.Realtime, error) {
	r.saw("Realtime", site)
	return r.Stats.Realtime(ctx, site, now)
}

// Every statistics call the dashboard makes carries the route's site id,
// whatever the URL says: the overview (with filters, tabs and a chosen
// property), every CSV export and the realtime page, asked by a member of
// site A with site B's id smuggled into the query. Every method of Stats is
// exercised. (storage/sitebound_test.go checks that each storage query
// binds the site it is given.)
func TestEveryStatsCallCarriesTheRouteSite(t *testing.T) {
	f := newFixture(t, DefaultConfig())
	f.overviewData(time.Now().UTC())
	rec := &siteRecorder{Stats: f.st, sites: map[string][]uuid.UUID{}}
	h := New(DefaultConfig(), Deps{Store: f.st, Stats: rec, Keys: f.keys}, f.h.log)
	c := f.signedIn(f.ownerA)
	c.app = h.App()
	a := "/sites/" + f.siteA.ID.String()
	paths := []string{a, a + "?period=7d&f=event:signup&f=source:Google&sources=channel&pages=exit_page", a + "?prop=plan", a + "/realtime"}
	for _, p := range []string{"totals", "timeseries", "source", "page", "entry_page", "country", "browser_version", "event", "vitals", "dom", "quality"} {
		paths = append(paths, a+"/export/"+p+".csv?period=7d&f=country:DE")
	}
	paths = append(paths, a+"/export/props.csv?prop=plan")
	for _, p := range paths {
		if r := c.get(p); r.status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", p, r.status, excerpt(r.body))
		}
	}
	// Site B's id in the URL is refused before any statistic is read.
	for _, p := range []string{a + "?site=" + f.siteB.ID.String(), a + "?site_id=" + f.siteB.ID.String()} {
		if r := c.get(p); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", p, r.status)
		}
	}
	for _, m := range []string{"Aggregate", "Timeseries", "Breakdown", "PropKeys", "Vitals", "DOMFindings", "TrafficQuality", "Realtime"} {
		if len(rec.sites[m]) == 0 {
			t.Errorf("%s was never called: the test misses a statistic", m)
		}
	}
	calls := 0
	for m, sites := range rec.sites {
		for _, s := range sites {
			calls++
			if s != f.siteA.ID {
				t.Errorf("%s asked about site %s, not the route's %s", m, s, f.siteA.ID)
			}
		}
	}
	if calls < 40 {
		t.Errorf("only %d statistics calls recorded", calls)
	}
}
