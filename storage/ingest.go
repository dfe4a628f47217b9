package storage

import (
	"context"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
)

// CountIngest counts a site's stored rows that came in one way (ingest:
// browser, server or demo). `verity dev` asks it before seeding the demo
// history, so that a second run does not add it again.
func (s *Store) CountIngest(ctx context.Context, siteID uuid.UUID, ingest string) (uint64, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	var n uint64
	err := s.scanRows(ctx, "count "+ingest+" rows", clause{sql: "SELECT count() FROM events WHERE site_id = ? AND ingest = ?", args: []any{siteID, ingest}},
		func(r driver.Rows) error { return r.Scan(&n) })
	return n, err
}
