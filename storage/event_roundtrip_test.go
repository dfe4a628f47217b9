package storage_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// InsertEvents stores every field of every event in its column: each
// column read back equals the value sent, for several events with distinct
// values (so a shifted or swapped column shows) and for empty arrays.
func TestInsertEventsRoundTrip(t *testing.T) {
	st := chtest.Store(t)
	ts := time.Now().UTC().Truncate(time.Second)
	full := func(i int) storage.Event {
		s := func(name string) string { return name + "-" + string(rune('a'+i)) }
		return storage.Event{
			SiteID: uuid.New(), TS: ts.Add(time.Duration(i) * time.Second), EventID: uint64(1000 + i), PageLoadID: uuid.New(), Seq: uint32(3 + i),
			Type: s("type"), Name: s("name"), VisitorID: uint64(7 + i), SessionID: uint64(9 + i),
			Hostname: s("host"), Pathname: s("/path"), Title: s("title"), Referrer: s("ref"), Source: s("source"), Channel: s("channel"),
			UTMSource: s("us"), UTMMedium: s("um"), UTMCampaign: s("uc"), UTMContent: s("uco"), UTMTerm: s("ut"),
			Country: s("c"), Region: s("r"), City: s("city"), ASN: uint32(64500 + i),
			Browser: s("b"), BrowserVersion: s("bv"), OS: s("os"), OSVersion: s("osv"), Device: s("d"),
			ScreenWidth: uint16(1280 + i), Language: s("lang"), Timezone: s("tz"), EngagementMS: uint32(5000 + i), ScrollDepth: uint8(40 + i),
			Value: 1.5 + float64(i), PropKeys: []string{s("k1"), s("k2")}, PropValues: []string{s("v1"), s("v2")},
			Verified: i%2 == 0, Score: uint8(10 + i), Verdict: s("verdict"), Class: s("class"), Reasons: []string{s("reason")}, Ingest: s("ingest"),
		}
	}
	events := []storage.Event{full(0), full(1), {SiteID: uuid.New(), TS: ts, EventID: 2000, PageLoadID: uuid.New(), Type: "pageview"}}
	if err := st.InsertEvents(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	columns := strings.Fields(strings.NewReplacer(",", " ").Replace(`site_id, ts, event_id, page_load_id, seq, type, name, visitor_id, session_id,
		hostname, pathname, title, referrer, source, channel, utm_source, utm_medium, utm_campaign, utm_content, utm_term,
		country, region, city, asn, browser, browser_version, os, os_version, device,
		screen_width, language, timezone, engagement_ms, scroll_depth, value,
		prop_keys, prop_values, verified, score, verdict, class, reasons, ingest`))
	for i := range events {
		stored, sent, err := storage.StoredEventRow(st, &events[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(columns) {
			t.Fatalf("%d columns, want %d", len(stored), len(columns))
		}
		for c := range sent {
			got, want := stored[c], sent[c]
			if tm, ok := got.(time.Time); ok {
				got = tm.UTC()
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("event %d column %s = %#v, want %#v", i, columns[c], got, want)
			}
		}
	}
}
