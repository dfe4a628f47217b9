package storage

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// PropKey is one custom event property name and how many events carry it.
type PropKey struct {
	Key    string
	Events uint64
}

// PropKeys lists the property names of q's custom events (those the
// positive event and prop filters select), most used first, at most limit
// (0: DefaultBreakdownLimit). The dashboard offers them as the choice of
// whose values to break down (PropDimension).
func (s *Store) PropKeys(ctx context.Context, q Query, limit int) ([]PropKey, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxBreakdownLimit {
		limit = DefaultBreakdownLimit
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	c := clause{sql: "SELECT prop_key, count() AS n "}
	c.addClause(q.where(fromEventProps, q.From, q.To, q.customRows(clause{})))
	c.add(" GROUP BY prop_key ORDER BY n DESC, prop_key LIMIT ?", limit)
	out := []PropKey{}
	err = s.scanRows(ctx, "property keys", c, func(r driver.Rows) error {
		var k PropKey
		if err := r.Scan(&k.Key, &k.Events); err != nil {
			return err
		}
		out = append(out, k)
		return nil
	})
	return out, err
}
