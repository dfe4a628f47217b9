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
	ViewHuman      View = "human"      // verdict ok and not quarantined: the default
	ViewAll        View = "all"        // everything stored
	ViewSuspicious View = "suspicious" // suspect, invalid and quarantined only
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

// condition is the view's SQL condition, given the condition that selects
// quarantined events (see Store.quarantined): a quarantined event counts as
// invalid whatever its stored verdict. Fixed fragments per allowlisted
// value: nothing from the request reaches the SQL text.
func (v View) condition(quarantined string) string {
	switch v {
	case ViewAll:
		return "1"
	case ViewSuspicious:
		return "(verdict != 'ok' OR " + quarantined + ")"
	default:
		return "verdict = 'ok' AND NOT " + quarantined
	}
}

// viewCondition is the SQL condition that selects a view's events of a
// site between from and to, with the site's active quarantines applied,
// and its arguments. Every query that counts events in a view uses it.
func (s *Store) viewCondition(ctx context.Context, siteID uuid.UUID, from, to time.Time, view View) (string, []any, error) {
	if view == ViewAll {
		return view.condition(""), nil, nil
	}
	q, args, err := s.quarantined(ctx, siteID, from, to)
	if err != nil {
		return "", nil, err
	}
	return view.condition(q), args, nil
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
	cond, condArgs, err := s.viewCondition(ctx, siteID, from, to, view)
	if err != nil {
		return Totals{}, err
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, `SELECT countIf(type = 'pageview'), uniqExactIf(visitor_id, type = 'pageview'),
		uniqExactIf(session_id, type = 'pageview'), count()
		FROM events WHERE site_id = ? AND ts >= ? AND ts < ? AND `+cond, append([]any{siteID, from, to}, condArgs...)...)
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
