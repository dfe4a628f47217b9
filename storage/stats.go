package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The statistics behind the dashboard and the Stats API. Definitions (see
// also docs/schema.md, "Statistics"):
//
//   - A visit is a session (session_id). A visit matches a Query when it
//     has at least one pageview in the period and view that passes the
//     event filters, and its entry/exit pageview and custom events pass the
//     session filters. Visits are cut at the period's edges.
//   - Pageviews are the matching pageviews; visitors the distinct visitor
//     ids among them. Visitor ids are daily, so over several days a
//     returning visitor counts once per day.
//   - Bounce rate: the share of matching visits with exactly one pageview
//     (all of the visit's pageviews count, not only the filtered ones).
//   - Visit duration: the mean over matching visits of the visit's engaged
//     time, the sum of its engagement events' engagement_ms (time the page
//     was visible); a visit without engagement events counts as 0.

// Metrics are the headline numbers of a period.
type Metrics struct {
	Visitors      uint64
	Visits        uint64
	Pageviews     uint64
	ViewsPerVisit float64       // Pageviews / Visits
	BounceRate    float64       // 0..1
	VisitDuration time.Duration // mean engaged time per visit, millisecond precision
}

// Aggregate is a period's Metrics and, when the query asks to compare,
// those of the previous period (Query.Previous).
type Aggregate struct {
	Current  Metrics
	Previous *Metrics
}

// Aggregate computes the headline numbers of q.
func (s *Store) Aggregate(ctx context.Context, q Query) (Aggregate, error) {
	if err := q.Validate(); err != nil {
		return Aggregate{}, err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return Aggregate{}, err
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	// The period and the previous one in one round trip (UNION ALL runs
	// both in parallel); the first column tells them apart.
	c := metricsSQL(q, 0)
	if q.Compare {
		c.add(" UNION ALL ")
		c.addClause(metricsSQL(q.Previous(), 1))
	}
	var a Aggregate
	err = s.scanRows(ctx, "aggregate", c, func(r driver.Rows) error {
		var previous uint8
		var m Metrics
		var bounces, engagedMS uint64
		if err := r.Scan(&previous, &m.Visitors, &m.Visits, &m.Pageviews, &bounces, &engagedMS); err != nil {
			return err
		}
		if m.Visits > 0 {
			m.ViewsPerVisit = float64(m.Pageviews) / float64(m.Visits)
			m.BounceRate = float64(bounces) / float64(m.Visits)
			m.VisitDuration = time.Duration(engagedMS/m.Visits) * time.Millisecond
		}
		if previous == 1 {
			a.Previous = &m
		} else {
			a.Current = m
		}
		return nil
	})
	if err != nil {
		return Aggregate{}, err
	}
	if q.Compare && a.Previous == nil {
		return Aggregate{}, fmt.Errorf("storage: aggregate: no row for the previous period")
	}
	return a, nil
}

// metricsSQL selects tag and the raw sums of q's Metrics in one row.
func metricsSQL(q Query, tag int) clause {
	c := clause{}
	c.add("SELECT toUInt8(?) AS tag, uniqExact(visitor), count(), sum(pv), countIf(all_pv = 1), sum(engaged) FROM (SELECT any(visitor_id) AS visitor, ", tag)
	c.addClause(q.matchedPageviews())
	c.add(" AS pv, countIf(type = 'pageview') AS all_pv, sum(engagement_ms) AS engaged ")
	c.addClause(q.scope(fromEvents, q.From, q.To, clause{sql: "type IN ('pageview', 'engagement')"})) // the rows the numbers need
	c.add(" GROUP BY session_id HAVING pv > 0)")
	return c
}

// matchedPageviews counts a visit's pageviews that pass the event filters.
func (q Query) matchedPageviews() clause {
	c := clause{sql: "countIf(type = 'pageview'"}
	if ev := q.eventCondition(); ev.sql != "" {
		c.add(" AND ")
		c.addClause(ev)
	}
	c.add(")")
	return c
}

// Interval is a time-series bucket size.
type Interval string

// The intervals; DefaultInterval picks one for a period.
const (
	IntervalHour Interval = "hour"
	IntervalDay  Interval = "day"
)

// MaxBuckets caps a time series (a year of days, or about 3 weeks of hours).
const MaxBuckets = 800

// DefaultInterval is hourly for periods up to two days, else daily.
func DefaultInterval(q Query) Interval {
	if q.To.Sub(q.From) <= 48*time.Hour {
		return IntervalHour
	}
	return IntervalDay
}

// ParseInterval reads an interval name; "" is no choice (DefaultInterval).
func ParseInterval(s string) (Interval, error) {
	switch i := Interval(s); i {
	case "", IntervalHour, IntervalDay:
		return i, nil
	}
	return "", fmt.Errorf("interval: %q is not hour or day", truncate(s))
}

// Point is one bucket of a time series.
type Point struct {
	Start     time.Time // UTC
	Visitors  uint64
	Visits    uint64
	Pageviews uint64
}

// Timeseries counts q's pageviews per hour or day, every bucket of the
// period present (zero when empty). A visitor or visit that spans buckets
// counts in each. Interval "" is DefaultInterval(q).
func (s *Store) Timeseries(ctx context.Context, q Query, interval Interval) ([]Point, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return nil, err
	}
	if interval == "" {
		interval = DefaultInterval(q)
	}
	step, bucket := 24*time.Hour, "toStartOfDay(ts)"
	switch interval {
	case IntervalHour:
		step, bucket = time.Hour, "toStartOfHour(ts)"
	case IntervalDay:
	default:
		return nil, fmt.Errorf("storage: unknown interval %q", interval)
	}
	start := q.From.UTC().Truncate(step)
	if n := q.To.Sub(start) / step; n > MaxBuckets {
		return nil, fmt.Errorf("storage: %d %s buckets; at most %d (choose a longer interval)", n, interval, MaxBuckets)
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	c := clause{sql: "SELECT " + bucket + " AS bucket, uniqExact(visitor_id), uniqExact(session_id), count() "}
	c.addClause(q.where(fromEvents, q.From, q.To, clause{sql: "type = 'pageview'"}))
	c.add(" GROUP BY bucket ORDER BY bucket")
	found := map[time.Time]Point{}
	err = s.scanRows(ctx, "timeseries", c, func(r driver.Rows) error {
		var p Point
		if err := r.Scan(&p.Start, &p.Visitors, &p.Visits, &p.Pageviews); err != nil {
			return err
		}
		p.Start = p.Start.UTC()
		found[p.Start] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Point
	for t := start; t.Before(q.To); t = t.Add(step) {
		p, ok := found[t]
		if !ok {
			p.Start = t
		}
		out = append(out, p)
	}
	return out, nil
}

// scanRows runs c and calls scan for each row.
func (s *Store) scanRows(ctx context.Context, what string, c clause, scan func(driver.Rows) error) error {
	rows, err := s.db.Query(ctx, c.sql, c.args...)
	if err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("storage: %s: %w", what, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	return nil
}
