package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Event is one stored event: a pageview, an engagement report, a custom
// event, a Web Vital, a DOM-check finding, an outbound or download click.
// The collector fills it; the fields map one to one onto the events table
// (docs/schema.md explains each).
type Event struct {
	SiteID                                                 uuid.UUID
	TS                                                     time.Time // server clock, UTC, second precision
	EventID                                                uint64    // deterministic: hash of site, page load, sequence, index
	PageLoadID                                             uuid.UUID
	Seq                                                    uint32
	Type                                                   string // pageview, engagement, custom, vital, dom_check, outbound, download
	Name                                                   string // custom event name, vital (LCP, ...), check id
	VisitorID                                              uint64 // keyed hash with a daily salt; no raw IP anywhere
	SessionID                                              uint64
	Hostname                                               string
	Pathname                                               string
	Title                                                  string
	Referrer                                               string
	Source                                                 string // "Google", "Direct / None", ...
	Channel                                                string // search, social, ai, email, referral, direct, paid
	UTMSource, UTMMedium, UTMCampaign, UTMContent, UTMTerm string
	Country, Region, City                                  string
	ASN                                                    uint32 // the network's autonomous system (shared by all its users, not personal data); 0 when unknown
	Browser, BrowserVersion, OS, OSVersion, Device         string
	ScreenWidth                                            uint16
	Language, Timezone                                     string
	EngagementMS                                           uint32
	ScrollDepth                                            uint8 // percent
	Value                                                  float64
	PropKeys, PropValues                                   []string
	Verified                                               bool // came signed, server to server
	Score                                                  uint8
	Verdict                                                string // ok, suspect, invalid
	Class                                                  string // GIVT/SIVT class, empty when ok
	Reasons                                                []string
	Ingest                                                 string // browser, server, demo
}

// eventColumns is the one place the column order of an event insert is
// written; appendEvent must follow it.
const eventColumns = `site_id, ts, event_id, page_load_id, seq, type, name, visitor_id, session_id,
	hostname, pathname, title, referrer, source, channel,
	utm_source, utm_medium, utm_campaign, utm_content, utm_term,
	country, region, city, asn, browser, browser_version, os, os_version, device,
	screen_width, language, timezone, engagement_ms, scroll_depth, value,
	prop_keys, prop_values, verified, score, verdict, class, reasons, ingest`

func eventValues(e *Event) []any {
	return []any{
		e.SiteID, e.TS, e.EventID, e.PageLoadID, e.Seq, e.Type, e.Name, e.VisitorID, e.SessionID,
		e.Hostname, e.Pathname, e.Title, e.Referrer, e.Source, e.Channel,
		e.UTMSource, e.UTMMedium, e.UTMCampaign, e.UTMContent, e.UTMTerm,
		e.Country, e.Region, e.City, e.ASN, e.Browser, e.BrowserVersion, e.OS, e.OSVersion, e.Device,
		e.ScreenWidth, e.Language, e.Timezone, e.EngagementMS, e.ScrollDepth, e.Value,
		nonNil(e.PropKeys), nonNil(e.PropValues), b2u(e.Verified), e.Score, e.Verdict, e.Class, nonNil(e.Reasons), e.Ingest,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// InsertEvents writes events in one batch through clickhouse-go's batch API.
// Most callers go through the Writer, which batches, retries and spools.
func (s *Store) InsertEvents(ctx context.Context, events []Event) error {
	return s.insertRows(ctx, "events", eventColumns, len(events), func(i int) []any { return eventValues(&events[i]) })
}

// ExistingEventIDs returns which of ids are already stored for the site on
// the days between from and to. (A bound slice is an array literal, hence
// arrayJoin: "IN (?)" would compare with the array itself.) The writer asks before it replays a spooled
// batch whose first insert may have reached the server after all.
func (s *Store) ExistingEventIDs(ctx context.Context, siteID uuid.UUID, from, to time.Time, ids []uint64) (map[uint64]bool, error) {
	found := map[uint64]bool{}
	if len(ids) == 0 {
		return found, nil
	}
	rows, err := s.db.Query(ctx, `SELECT DISTINCT event_id FROM events
		WHERE site_id = ? AND toDate(ts) BETWEEN toDate(?) AND toDate(?) AND event_id IN (SELECT arrayJoin(?))`, siteID, from, to, ids)
	if err != nil {
		return nil, fmt.Errorf("storage: existing event ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("storage: existing event ids: %w", err)
		}
		found[id] = true
	}
	return found, rows.Err()
}

// Rejection is a count of hard-rejected requests for one site, minute and
// reason. Unknown sites count under uuid.Nil.
type Rejection struct {
	SiteID uuid.UUID
	Minute time.Time
	Reason string
	Count  uint64
}

// InsertRejections adds rejection counts; rows with the same key are summed.
func (s *Store) InsertRejections(ctx context.Context, rs []Rejection) error {
	return s.insertRows(ctx, "rejections", "site_id, minute, reason, count", len(rs), func(i int) []any {
		return []any{rs[i].SiteID, rs[i].Minute.UTC().Truncate(time.Minute), rs[i].Reason, rs[i].Count}
	})
}

// CountEvents returns the rows stored for a site and how many distinct event
// ids they hold; the two differ only while re-sent copies await a merge.
func (s *Store) CountEvents(ctx context.Context, siteID uuid.UUID) (rows, distinct uint64, err error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	r, err := s.db.Query(ctx, "SELECT count(), uniqExact(event_id) FROM events WHERE site_id = ?", siteID)
	if err != nil {
		return 0, 0, fmt.Errorf("storage: count events: %w", err)
	}
	defer r.Close()
	if r.Next() {
		err = r.Scan(&rows, &distinct)
	}
	if err == nil {
		err = r.Err()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("storage: count events: %w", err)
	}
	return rows, distinct, nil
}
