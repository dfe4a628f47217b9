package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// View chooses which events a statistic counts, by verdict.
type View string

// The views the dashboard and the stats API offer.
const (
	ViewHuman      View = "human"      // verdict ok: the default
	ViewAll        View = "all"        // everything stored
	ViewSuspicious View = "suspicious" // suspect and invalid only
)

// ParseView reads a view name; "" is the default, human.
func ParseView(s string) (View, error) {
	switch v := View(s); v {
	case "":
		return ViewHuman, nil
	case ViewHuman, ViewAll, ViewSuspicious:
		return v, nil
	}
	return "", fmt.Errorf("storage: unknown view %q: want human, all or suspicious", s)
}

// condition is the view's SQL condition. A fixed fragment per allowlisted
// value: nothing from the request reaches the SQL text.
func (v View) condition() string {
	switch v {
	case ViewAll:
		return "1"
	case ViewSuspicious:
		return "verdict != 'ok'"
	default:
		return "verdict = 'ok'"
	}
}

// Totals are a site's headline numbers over a period.
type Totals struct {
	Pageviews uint64
	Visitors  uint64 // distinct visitor ids (daily ids: a visitor counts once per day)
	Visits    uint64 // distinct sessions
	Events    uint64 // every stored event row
}

// Totals counts one site's events with from <= ts < to in the view.
func (s *Store) Totals(ctx context.Context, siteID uuid.UUID, from, to time.Time, view View) (Totals, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, `SELECT countIf(type = 'pageview'), uniqExactIf(visitor_id, type = 'pageview'),
		uniqExactIf(session_id, type = 'pageview'), count()
		FROM events WHERE site_id = ? AND ts >= ? AND ts < ? AND `+view.condition(), siteID, from, to)
	if err != nil {
		return Totals{}, fmt.Errorf("storage: totals: %w", err)
	}
	defer rows.Close()
	var t Totals
	if rows.Next() {
		if err := rows.Scan(&t.Pageviews, &t.Visitors, &t.Visits, &t.Events); err != nil {
			return Totals{}, fmt.Errorf("storage: totals: %w", err)
		}
	}
	return t, rows.Err()
}
