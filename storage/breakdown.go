package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// BreakdownRow is one value of a dimension.
type BreakdownRow struct {
	Value    string // "" is "(none)": no referrer, no UTM tag, unknown place
	Visitors uint64
	Visits   uint64
	// Count is pageviews, or for event and prop breakdowns, events.
	Count uint64
	// Share is Visitors / Breakdown.Visitors: for custom events and their
	// properties, the conversion rate.
	Share float64
}

// Breakdown is a dimension's top values under a Query.
type Breakdown struct {
	Dimension Dimension
	PropKey   string // for a prop breakdown
	Visitors  uint64 // all visitors of the query: the denominator of Share
	Rows      []BreakdownRow
}

// Breakdown limits.
const (
	DefaultBreakdownLimit = 10
	MaxBreakdownLimit     = 1000
)

// PropDimension is the breakdown of a custom event property's values. Add
// an event filter to the query to look at one event's properties.
func PropDimension(key string) Dimension { return Dimension(string(DimProp) + ":" + key) }

// ParseDimension reads a breakdown dimension: a name from the allowlist, or
// prop:key.
func ParseDimension(s string) (Dimension, error) {
	d := Dimension(s)
	if key, ok := strings.CutPrefix(s, string(DimProp)+":"); ok {
		return d, Filter{Dimension: DimProp, Key: key}.Validate()
	}
	if _, ok := dimensions[d]; !ok || d == DimProp {
		return "", fmt.Errorf("dimension: unknown %q", truncate(s))
	}
	return d, nil
}

// Breakdown ranks d's values by visitors (then count, then value) and
// returns the first limit (0: DefaultBreakdownLimit).
func (s *Store) Breakdown(ctx context.Context, q Query, d Dimension, limit int) (Breakdown, error) {
	if err := q.Validate(); err != nil {
		return Breakdown{}, err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return Breakdown{}, err
	}
	if _, err := ParseDimension(string(d)); err != nil {
		return Breakdown{}, fmt.Errorf("storage: %w", err)
	}
	if limit == 0 {
		limit = DefaultBreakdownLimit
	}
	if limit < 0 || limit > MaxBreakdownLimit {
		return Breakdown{}, fmt.Errorf("storage: breakdown limit %d: want 1 to %d", limit, MaxBreakdownLimit)
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	b := Breakdown{Dimension: d, Rows: []BreakdownRow{}}
	if key, ok := strings.CutPrefix(string(d), string(DimProp)+":"); ok {
		b.Dimension, b.PropKey = DimProp, key
	}
	// The denominator rides along as a scalar subquery: one round trip.
	c := clause{sql: "SELECT dim, visitors, visits, n, ("}
	c.addClause(q.visitorsSQL())
	c.add(") FROM (")
	c.addClause(q.breakdownSQL(d))
	c.add(" GROUP BY dim ORDER BY visitors DESC, n DESC, dim LIMIT ?)", limit)
	err = s.scanRows(ctx, "breakdown "+string(b.Dimension), c, func(r driver.Rows) error {
		var row BreakdownRow
		if err := r.Scan(&row.Value, &row.Visitors, &row.Visits, &row.Count, &b.Visitors); err != nil {
			return err
		}
		if b.Visitors > 0 {
			row.Share = float64(row.Visitors) / float64(b.Visitors)
		}
		b.Rows = append(b.Rows, row)
		return nil
	})
	if err == nil && len(b.Rows) == 0 {
		b.Visitors, err = s.visitors(ctx, q)
	}
	return b, err
}

// breakdownSQL selects dim, visitors, visits and n for each matching row
// (without GROUP BY).
func (q Query) breakdownSQL(d Dimension) clause {
	const counts = " AS dim, uniqExact(visitor_id) AS visitors, uniqExact(session_id) AS visits, count() AS n "
	if key, ok := strings.CutPrefix(string(d), string(DimProp)+":"); ok {
		c := clause{sql: "SELECT prop_value" + counts}
		c.addClause(q.where(fromEventProps, q.From, q.To, q.customRows(clause{sql: "prop_key = ?", args: []any{key}})))
		return c
	}
	spec := dimensions[d]
	switch spec.level {
	case levelSession:
		// A visit's value is that of its entry (or exit) pageview.
		c := clause{sql: "SELECT dim, uniqExact(visitor) AS visitors, count() AS visits, sum(pv) AS n FROM (SELECT " + spec.session + " AS dim, any(visitor_id) AS visitor, "}
		c.addClause(q.matchedPageviews())
		c.add(" AS pv ")
		c.addClause(q.scope(fromEvents, q.From, q.To, clause{sql: "type = 'pageview'"})) // all a visit's value needs
		c.add(" GROUP BY session_id HAVING pv > 0)")
		return c
	case levelCustom:
		c := clause{sql: "SELECT name" + counts}
		c.addClause(q.where(fromEvents, q.From, q.To, q.customRows(clause{})))
		return c
	}
	c := clause{sql: "SELECT " + spec.expr + counts}
	c.addClause(q.where(fromEvents, q.From, q.To, clause{sql: "type = 'pageview'"}))
	return c
}

// customRows is the condition on custom events for the event and prop
// breakdowns: the type, the positive event and prop filters, and extra.
func (q Query) customRows(extra clause) clause {
	parts := []clause{{sql: "type = 'custom'"}}
	if c := q.customRowCondition(); c.sql != "" {
		parts = append(parts, c)
	}
	if extra.sql != "" {
		parts = append(parts, extra)
	}
	return and(parts)
}

// visitors counts the query's visitors: the denominator of shares and
// conversion rates.
func (s *Store) visitors(ctx context.Context, q Query) (uint64, error) {
	var n uint64
	err := s.scanRows(ctx, "visitors", q.visitorsSQL(), func(r driver.Rows) error { return r.Scan(&n) })
	return n, err
}

func (q Query) visitorsSQL() clause {
	c := clause{sql: "SELECT uniqExact(visitor_id) "}
	c.addClause(q.where(fromEvents, q.From, q.To, clause{sql: "type = 'pageview'"}))
	return c
}
