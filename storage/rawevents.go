package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// RawEvent is one stored event as an export shows it: the event and
// whether an active quarantine covers it (it then counts as invalid,
// whatever its stored verdict).
type RawEvent struct {
	Event
	Quarantined bool
}

// MaxRawEvents caps one raw export (CountRawEvents tells beforehand): about
// 100 MB of CSV, which a download must carry within the dashboard's write
// timeout.
const MaxRawEvents = 250_000

// rawEventColumns are read in the order scanRawEvent scans them.
const rawEventColumns = `ts, event_id, page_load_id, seq, type, name, visitor_id, session_id,
	hostname, pathname, title, referrer, source, channel,
	utm_source, utm_medium, utm_campaign, utm_content, utm_term,
	country, region, city, asn, browser, browser_version, os, os_version, device,
	screen_width, language, timezone, engagement_ms, scroll_depth, value,
	prop_keys, prop_values, verified, score, verdict, class, reasons, ingest`

// CountRawEvents counts the events RawEvents would pass on.
func (s *Store) CountRawEvents(ctx context.Context, q Query) (uint64, error) {
	if err := q.Validate(); err != nil {
		return 0, err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return 0, err
	}
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	c := clause{sql: "SELECT count() "}
	c.addClause(q.where(fromEvents, q.From, q.To, clause{}))
	var n uint64
	err = s.scanRows(ctx, "count raw events", c, func(r driver.Rows) error { return r.Scan(&n) })
	return n, err
}

// RawEvents calls fn with each of q's events (its view and filters applied
// as in the statistics; Compare ignored), oldest first, at most
// MaxRawEvents. It reads one UTC day at a time, so that neither ClickHouse
// (sorting) nor this process (a day's blocks at most) holds more than a
// day of one site's events. ctx bounds the whole export: unlike other
// queries it may take longer than the query timeout, since fn may wait
// for a slow client.
func (s *Store) RawEvents(ctx context.Context, q Query, fn func(*RawEvent) error) error {
	if err := q.Validate(); err != nil {
		return err
	}
	q, err := s.withQuarantines(ctx, q)
	if err != nil {
		return err
	}
	// Quarantined events are marked in every view (in the all view, q
	// has no quarantine condition to apply, so it is loaded here).
	qsql, qargs, err := s.quarantined(ctx, q.SiteID, q.From, q.To)
	if err != nil {
		return err
	}
	sent := 0
	for day := q.From.UTC(); day.Before(q.To) && sent < MaxRawEvents; day = nextDay(day) {
		end := nextDay(day)
		if end.After(q.To) {
			end = q.To
		}
		c := clause{sql: "SELECT " + rawEventColumns + ", " + qsql + " ", args: qargs}
		// The visit filters judge visits on the whole period, as the
		// statistics do; the day only narrows which rows are read.
		c.addClause(q.where(fromEvents, q.From, q.To, clause{sql: "ts >= ? AND ts < ?", args: []any{day, end}}))
		c.add(" ORDER BY ts, event_id LIMIT ?", MaxRawEvents-sent)
		err := s.scanRows(ctx, "raw events", c, func(r driver.Rows) error {
			e := RawEvent{Event: Event{SiteID: q.SiteID}}
			if err := scanRawEvent(r, &e); err != nil {
				return err
			}
			sent++
			return fn(&e)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// nextDay is the start of the UTC day after t.
func nextDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

func scanRawEvent(r driver.Rows, e *RawEvent) error {
	var verified, quarantined uint8
	err := r.Scan(&e.TS, &e.EventID, &e.PageLoadID, &e.Seq, &e.Type, &e.Name, &e.VisitorID, &e.SessionID,
		&e.Hostname, &e.Pathname, &e.Title, &e.Referrer, &e.Source, &e.Channel,
		&e.UTMSource, &e.UTMMedium, &e.UTMCampaign, &e.UTMContent, &e.UTMTerm,
		&e.Country, &e.Region, &e.City, &e.ASN, &e.Browser, &e.BrowserVersion, &e.OS, &e.OSVersion, &e.Device,
		&e.ScreenWidth, &e.Language, &e.Timezone, &e.EngagementMS, &e.ScrollDepth, &e.Value,
		&e.PropKeys, &e.PropValues, &verified, &e.Score, &e.Verdict, &e.Class, &e.Reasons, &e.Ingest, &quarantined)
	if err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	e.TS, e.Verified, e.Quarantined = e.TS.UTC(), verified == 1, quarantined == 1
	return nil
}
