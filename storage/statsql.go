package storage

import (
	"context"
	"strings"
	"time"
)

// fromEvents starts every statistics query: one site, one period. The
// view's condition follows it (see Query.where). Keeping the site binding
// in this one constant is what TestEveryEventQueryIsBoundToASite checks.
const fromEvents = "FROM events WHERE site_id = ? AND ts >= ? AND ts < ? AND "

// fromEventProps is fromEvents with a custom event's properties joined in
// as prop_key and prop_value.
const fromEventProps = "FROM events ARRAY JOIN prop_keys AS prop_key, prop_values AS prop_value WHERE site_id = ? AND ts >= ? AND ts < ? AND "

// clause is a piece of SQL with the arguments of its placeholders, in order.
// Values reach ClickHouse only as arguments; the SQL text is made of fixed
// fragments chosen by allowlisted names.
type clause struct {
	sql  string
	args []any
}

func (c *clause) add(sql string, args ...any) {
	c.sql += sql
	c.args = append(c.args, args...)
}

func (c *clause) addClause(o clause) { c.add(o.sql, o.args...) }

// where renders "<from><view> AND <extra> AND <event filters> AND
// <session filters>" for [start, end): the events a query counts.
func (q Query) where(from string, start, end time.Time, extra clause) clause {
	c := q.scope(from, start, end, extra)
	if ev := q.eventCondition(); ev.sql != "" {
		c.add(" AND ")
		c.addClause(ev)
	}
	return c
}

// scope is where without the event-level filters: every event of the
// matching visits, for the numbers that describe whole visits (bounce
// rate, duration).
func (q Query) scope(from string, start, end time.Time, extra clause) clause {
	c := clause{}
	v := q.view()
	c.add(from+v.sql, append([]any{q.SiteID, start, end}, v.args...)...)
	if extra.sql != "" {
		c.add(" AND ")
		c.addClause(extra)
	}
	if s := q.sessionCondition(start, end); s.sql != "" {
		c.add(" AND ")
		c.addClause(s)
	}
	return c
}

// view is the view's condition with the site's quarantines applied: in
// the human view quarantined events are left out, in the suspicious view
// they are in.
func (q Query) view() clause {
	if q.View == ViewAll {
		return clause{sql: q.View.condition("")}
	}
	quarantined := q.quarantine
	if quarantined.sql == "" {
		quarantined.sql = "0"
	}
	return clause{sql: q.View.condition(quarantined.sql), args: quarantined.args}
}

// withQuarantines loads the site's quarantines active over the query's
// period and the one before (for the comparison) into q.
func (s *Store) withQuarantines(ctx context.Context, q Query) (Query, error) {
	if q.View == ViewAll {
		return q, nil
	}
	sql, args, err := s.quarantined(ctx, q.SiteID, q.From.Add(-q.To.Sub(q.From)), q.To)
	if err != nil {
		return q, err
	}
	q.quarantine = clause{sql: sql, args: args}
	return q, nil
}

// eventCondition is the event-level filters' condition, "" if none.
func (q Query) eventCondition() clause {
	var parts []clause
	for _, f := range q.Filters {
		spec := dimensions[f.Dimension]
		if spec.level == levelEvent {
			parts = append(parts, f.match(spec.expr, spec.prefix))
		}
	}
	return and(parts)
}

// customRowCondition restricts custom events to the names and properties
// that positive event and prop filters ask for: the event breakdowns count
// those events, not every event of the matching visits.
func (q Query) customRowCondition() clause {
	var parts []clause
	for _, f := range q.Filters {
		if !f.Negate {
			if c := f.customRow(); c.sql != "" {
				parts = append(parts, c)
			}
		}
	}
	return and(parts)
}

// sessionCondition keeps the visits whose entry or exit pageview, or whose
// custom events, match the session-level filters; "" if there are none.
// Visits are judged on their events in the period and view.
func (q Query) sessionCondition(start, end time.Time) clause {
	var parts []clause
	for _, f := range q.Filters {
		spec := dimensions[f.Dimension]
		switch spec.level {
		case levelSession:
			parts = append(parts, f.match(spec.session, spec.prefix))
		case levelCustom:
			row := f.customRow()
			c := clause{sql: "countIf(type = 'custom' AND " + row.sql + ") > 0", args: row.args}
			if f.Negate {
				c.sql = "NOT (" + c.sql + ")"
			}
			parts = append(parts, c)
		}
	}
	having := and(parts)
	if having.sql == "" {
		return having
	}
	c := clause{}
	// Only pageviews and custom events can decide; reading no other rows
	// makes the subquery cheaper.
	v := q.view()
	c.add("session_id IN (SELECT session_id "+fromEvents+v.sql+" AND type IN ('pageview', 'custom')", append([]any{q.SiteID, start, end}, v.args...)...)
	c.add(" GROUP BY session_id HAVING ")
	c.addClause(having)
	c.add(")")
	return c
}

// match is expr = value (or, for a trailing * where prefixes are allowed,
// expr starts with the value), negated for "is not". substring counts
// bytes, as len does; startsWith is newer than ClickHouse 18.16.
func (f Filter) match(expr string, prefix bool) clause {
	c := clause{sql: expr + " = ?", args: []any{f.Value}}
	if p, ok := strings.CutSuffix(f.Value, "*"); ok && prefix {
		c = clause{sql: "substring(" + expr + ", 1, ?) = ?", args: []any{len(p), p}}
	}
	if f.Negate {
		c.sql = "NOT (" + c.sql + ")"
	}
	return c
}

// customRow is the condition on one custom event row that a custom-level
// filter names (without negation); "" for other filters.
func (f Filter) customRow() clause {
	switch f.Dimension {
	case DimEvent:
		return clause{sql: "name = ?", args: []any{f.Value}}
	case DimProp:
		return clause{sql: "arrayExists((k, v) -> k = ? AND v = ?, prop_keys, prop_values)", args: []any{f.Key, f.Value}}
	}
	return clause{}
}

func and(parts []clause) clause {
	c := clause{}
	for i, p := range parts {
		if i > 0 {
			c.add(" AND ")
		}
		c.add("("+p.sql+")", p.args...)
	}
	return c
}
