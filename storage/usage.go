package storage

import (
	"context"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
)

// Usage is what one site stored and refused in two windows ending now: the
// last 30 days, and the calendar month so far (UTC). Events are stored rows
// of every verdict and ingest path, as stored: quarantines and the human /
// suspicious views do not apply, because usage measures what the site
// costs, not what its statistics show.
type Usage struct {
	Events30d     uint64
	EventsMonth   uint64
	Rejected30d   uint64 // hard rejections (never stored as rows)
	RejectedMonth uint64
}

// Add adds o to u.
func (u *Usage) Add(o Usage) {
	u.Events30d += o.Events30d
	u.EventsMonth += o.EventsMonth
	u.Rejected30d += o.Rejected30d
	u.RejectedMonth += o.RejectedMonth
}

// UsageWindows are the starts of Usage's windows for now, and the end that
// both share (now's second included, as event times have second precision).
func UsageWindows(now time.Time) (last30d, month, end time.Time) {
	now = now.UTC()
	return now.Truncate(time.Second).AddDate(0, 0, -30),
		time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC),
		now.Truncate(time.Second).Add(time.Second)
}

// SiteUsage counts one site's stored events and rejected requests in the
// windows of UsageWindows(now). Two queries, each bound to the site.
func (s *Store) SiteUsage(ctx context.Context, siteID uuid.UUID, now time.Time) (Usage, error) {
	last30d, month, end := UsageWindows(now)
	from := last30d
	if month.Before(from) {
		from = month
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	var u Usage
	err := s.scanRows(ctx, "site usage: events", clause{
		sql:  "SELECT countIf(ts >= ?), countIf(ts >= ?) FROM events WHERE site_id = ? AND ts >= ? AND ts < ?",
		args: []any{last30d, month, siteID, from, end},
	}, func(r driver.Rows) error { return r.Scan(&u.Events30d, &u.EventsMonth) })
	if err != nil {
		return u, err
	}
	// sumIf over no rows is 0 on both 18.16 and 26.x.
	err = s.scanRows(ctx, "site usage: rejections", clause{
		sql:  "SELECT sumIf(count, minute >= ?), sumIf(count, minute >= ?) FROM rejections WHERE site_id = ? AND minute >= ? AND minute < ?",
		args: []any{last30d, month, siteID, from, end},
	}, func(r driver.Rows) error { return r.Scan(&u.Rejected30d, &u.RejectedMonth) })
	return u, err
}
