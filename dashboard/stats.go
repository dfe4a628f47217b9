package dashboard

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// Query is what an overview panel asks about: one site, a period, a view
// and the filters of the page's URL.
type Query struct {
	SiteID   uuid.UUID
	From, To time.Time // from <= ts < to, UTC
	Step     Step      // the time series' bucket
	View     storage.View
	// Filters are the URL's filter parameters (see filterKeys), as typed.
	Filters url.Values
}

// Point is one bucket of a time series.
type Point struct {
	Start     time.Time
	Visitors  uint64
	Pageviews uint64
}

// Stats is everything the overview reads. Every method is about one site
// (q.SiteID), which the handler has already checked the user may see.
// StoreStats implements it on the storage functions that exist today; the
// statistics layer (storage.Query, ParseQuery, Aggregate, Timeseries,
// Breakdown, ...) plugs in here.
type Stats interface {
	// Totals are the headline numbers of q.
	Totals(ctx context.Context, q Query) (storage.Totals, error)
	// Timeseries has one point per q.Step from q.From to q.To.
	Timeseries(ctx context.Context, q Query) ([]Point, error)
	// Quality is the traffic-quality report of q's site and period (every
	// verdict, whatever q.View).
	Quality(ctx context.Context, q Query) (storage.QualityReport, error)
}

// ErrFiltersUnsupported is returned by a Stats that cannot apply filters;
// the overview then says so instead of showing unfiltered numbers under
// filter chips.
var ErrFiltersUnsupported = errors.New("dashboard: filters need the statistics layer")

// StoreStats answers Stats with storage.Store's Totals and TrafficQuality.
// It applies no filters, and builds the time series from one Totals per
// bucket (at most maxBuckets), which the statistics layer's single
// Timeseries query replaces.
type StoreStats struct{ Store *storage.Store }

var _ Stats = StoreStats{}

// Totals implements Stats.
func (s StoreStats) Totals(ctx context.Context, q Query) (storage.Totals, error) {
	if len(q.Filters) > 0 {
		return storage.Totals{}, ErrFiltersUnsupported
	}
	return s.Store.Totals(ctx, q.SiteID, q.From, q.To, q.View)
}

// Timeseries implements Stats.
func (s StoreStats) Timeseries(ctx context.Context, q Query) ([]Point, error) {
	if len(q.Filters) > 0 {
		return nil, ErrFiltersUnsupported
	}
	var out []Point
	for start := range q.Step.buckets(q.From, q.To) {
		end := q.Step.next(start)
		t, err := s.Store.Totals(ctx, q.SiteID, start, earlier(end, q.To), q.View)
		if err != nil {
			return nil, err
		}
		out = append(out, Point{Start: start, Visitors: t.Visitors, Pageviews: t.Pageviews})
	}
	return out, nil
}

// Quality implements Stats.
func (s StoreStats) Quality(ctx context.Context, q Query) (storage.QualityReport, error) {
	if len(q.Filters) > 0 {
		return storage.QualityReport{}, ErrFiltersUnsupported
	}
	return s.Store.TrafficQuality(ctx, q.SiteID, q.From, q.To)
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
