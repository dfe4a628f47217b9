package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ReasonCount is how many events (or rejected requests) one reason code
// accounts for; Verdict and Class are empty for rejections.
type ReasonCount struct {
	Verdict string
	Class   string
	Reason  string
	Count   uint64
}

// QualityReport is a site's traffic quality over a period: what was
// counted, what was flagged or filtered and why, and what was refused at
// the door. It feeds the dashboard's traffic-quality panel.
type QualityReport struct {
	Events   map[string]uint64 // by verdict: ok, suspect, invalid
	Reasons  []ReasonCount     // flagged and invalid events by verdict, class and reason, most first
	Rejected []ReasonCount     // hard rejections by reason, most first
}

// TrafficQuality reports on one site's events with from <= ts < to. Events
// an active quarantine covers count as invalid, class
// abuse.ClassActivityList, with the single reason ReasonQuarantine (their
// stored reasons are not listed: they no longer decide the verdict).
func (s *Store) TrafficQuality(ctx context.Context, siteID uuid.UUID, from, to time.Time) (QualityReport, error) {
	r := QualityReport{Events: map[string]uint64{}}
	q, qargs, err := s.quarantined(ctx, siteID, from, to)
	if err != nil {
		return r, err
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	query, args := expandQuarantined(`SELECT if({quarantined}, 'invalid', verdict) AS v, count() FROM events
		WHERE site_id = ? AND ts >= ? AND ts < ? GROUP BY v ORDER BY v`, q, qargs, siteID, from, to)
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return r, fmt.Errorf("storage: traffic quality: %w", err)
	}
	for rows.Next() {
		var verdict string
		var n uint64
		if err := rows.Scan(&verdict, &n); err != nil {
			rows.Close()
			return r, fmt.Errorf("storage: traffic quality: %w", err)
		}
		r.Events[verdict] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("storage: traffic quality: %w", err)
	}
	// A quarantined event's verdict, class and reasons are replaced.
	query, args = expandQuarantined(`SELECT if({quarantined}, 'invalid', verdict) AS v,
		if({quarantined}, 'givt_activity_list', class) AS c, reason, count() AS n
		FROM events ARRAY JOIN if({quarantined}, ['quarantine'], reasons) AS reason
		WHERE site_id = ? AND ts >= ? AND ts < ? AND (verdict != 'ok' OR {quarantined})
		GROUP BY v, c, reason ORDER BY n DESC, v, c, reason`, q, qargs, siteID, from, to)
	if r.Reasons, err = s.reasonCounts(ctx, query, args...); err != nil {
		return r, err
	}
	if r.Rejected, err = s.reasonCounts(ctx, `SELECT '', '', reason, sum(count) AS n FROM rejections
		WHERE site_id = ? AND minute >= ? AND minute < ?
		GROUP BY reason ORDER BY n DESC, reason`, siteID, from, to); err != nil {
		return r, err
	}
	return r, nil
}

func (s *Store) reasonCounts(ctx context.Context, query string, args ...any) ([]ReasonCount, error) {
	rows, err := s.db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: traffic quality: %w", err)
	}
	defer rows.Close()
	out := []ReasonCount{}
	for rows.Next() {
		var c ReasonCount
		if err := rows.Scan(&c.Verdict, &c.Class, &c.Reason, &c.Count); err != nil {
			return nil, fmt.Errorf("storage: traffic quality: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
