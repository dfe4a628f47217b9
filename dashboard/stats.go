package dashboard

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// Stats is everything the overview, the CSV export and the realtime page
// read. Every method is about one site (q.SiteID or siteID), which the
// handler sets from the route after checking the user may see it, never
// from the URL. *storage.Store implements it; tests record the calls to
// check that every one carries the route's site.
type Stats interface {
	Aggregate(ctx context.Context, q storage.Query) (storage.Aggregate, error)
	Timeseries(ctx context.Context, q storage.Query, interval storage.Interval) ([]storage.Point, error)
	Breakdown(ctx context.Context, q storage.Query, d storage.Dimension, limit int) (storage.Breakdown, error)
	PropKeys(ctx context.Context, q storage.Query, limit int) ([]storage.PropKey, error)
	Vitals(ctx context.Context, q storage.Query, limit int) (storage.Vitals, error)
	DOMFindings(ctx context.Context, q storage.Query, limit int) (storage.DOMFindings, error)
	TrafficQuality(ctx context.Context, siteID uuid.UUID, from, to time.Time) (storage.QualityReport, error)
	Realtime(ctx context.Context, siteID uuid.UUID, now time.Time) (storage.Realtime, error)
}

var _ Stats = (*storage.Store)(nil)
