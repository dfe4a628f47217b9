package storage_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

// schemaDoc is the operator documentation whose example queries are tested.
const schemaDoc = "../docs/schema.md"

// The fixture's ids; docs/schema.md uses them as literals.
var (
	docTenantAcme = uuid.MustParse("7e000000-0000-4000-8000-00000000000a")
	docTenantBeta = uuid.MustParse("7e000000-0000-4000-8000-00000000000b")
	docSiteAcme   = uuid.MustParse("5e000000-0000-4000-8000-0000000000a1") // acme.example, tenant Acme
	docSiteShop   = uuid.MustParse("5e000000-0000-4000-8000-0000000000a2") // shop.acme.example, tenant Acme
	docSiteBeta   = uuid.MustParse("5e000000-0000-4000-8000-0000000000b1") // beta.example, tenant Beta
)

// docQueryWant is the full expected result of every example query in
// docs/schema.md, by name: the column names, then every row, each cell as
// ClickHouse prints it. The numbers follow from docFixture; the comments say
// how.
func docQueryWant(migrations []storage.Migration) map[string][][]string {
	applied := [][]string{{"version", "name", "checksum"}}
	for _, m := range migrations {
		applied = append(applied, []string{strconv.Itoa(m.Version), m.Name, m.Checksum})
	}
	return map[string][][]string{
		// Acme's two live sites; acme.example under its latest name (FINAL),
		// beta.example belongs to the other tenant.
		"sites-of-tenant": {
			{"site_id", "name", "domain", "retention_days"},
			{"5e000000-0000-4000-8000-0000000000a1", "Acme", "acme.example", "400"},
			{"5e000000-0000-4000-8000-0000000000a2", "Acme Shop", "shop.acme.example", "0"},
		},
		// March only (not 28 Feb, not 1 Apr), ok pageviews only, both Acme
		// sites, no beta.example; counts not doubled by the renamed site's
		// two versions.
		"tenant-top-pages": {
			{"domain", "pathname", "pageviews", "visitors"},
			{"acme.example", "/pricing", "5", "4"},
			{"acme.example", "/", "4", "3"},
			{"acme.example", "/docs", "4", "3"},
			{"shop.acme.example", "/products", "2", "2"},
			{"acme.example", "/blog/launch", "1", "1"},
			{"shop.acme.example", "/cart", "1", "1"},
		},
		// 5 and 6 March had only suspect or invalid traffic.
		"daily-pageviews": {
			{"day", "pageviews", "visitors"},
			{"2026-03-02", "1", "1"},
			{"2026-03-03", "2", "2"},
			{"2026-03-04", "3", "2"},
			{"2026-03-10", "3", "2"},
			{"2026-03-11", "2", "1"},
			{"2026-03-17", "1", "1"},
			{"2026-03-24", "1", "1"},
			{"2026-03-31", "1", "1"},
		},
		// Google: visitors 101 (4 pageviews) and 104 (2).
		"top-sources": {
			{"channel", "source", "pageviews", "visitors"},
			{"search", "Google", "6", "2"},
			{"direct", "Direct / None", "3", "1"},
			{"social", "Reddit", "3", "1"},
			{"ai", "ChatGPT", "2", "1"},
		},
		// 101, 102, 103 and 105 viewed /pricing; 101 (20 min) and 105 (45 min)
		// signed up within the hour, 102 only after 2.5 h; 104 signed up
		// without /pricing; bot 900 is invalid.
		"funnel-pricing-signup": {
			{"viewed_pricing", "signed_up"},
			{"4", "2"},
		},
		// Week 0: 101, 102, 103, 104; back in week 1: 101, 102; week 2: 101;
		// week 3: 103 (104's 31 March is week 4).
		"weekly-retention": {
			{"week_0", "week_1", "week_2", "week_3"},
			{"4", "2", "1", "1"},
		},
		// 40 events on acme.example in March: 14 ok pageviews, 3 ok signups,
		// 16 ok vitals, 6 invalid (bots 900 and 901), 1 suspect (902).
		"verdict-share": {
			{"verdict", "event_count", "share_pct"},
			{"ok", "33", "82.5"},
			{"invalid", "6", "15"},
			{"suspect", "1", "2.5"},
		},
		// 900's 4 events carry two reasons each; 103's ok pageview with the
		// reason vpn is not counted.
		"invalid-reasons": {
			{"verdict", "class", "reason", "flagged", "share_pct"},
			{"invalid", "SIVT", "datacenter_asn", "4", "10"},
			{"invalid", "SIVT", "headless", "4", "10"},
			{"invalid", "GIVT", "declared_bot", "2", "5"},
			{"suspect", "", "datacenter_asn", "1", "2.5"},
		},
		// bad_token: 3 + 2 in the same minute (two inserts) + 1; April, other
		// sites and unknown keys left out.
		"rejections-by-reason": {
			{"reason", "rejected"},
			{"rate_limited", "10"},
			{"bad_token", "6"},
			{"origin_not_allowed", "4"},
			{"pow_failed", "1"},
		},
		// Five ok samples each, so p75 is the 4th smallest exactly; bot 900's
		// LCP and the FCP sample are left out.
		"web-vitals-p75": {
			{"name", "p75", "samples"},
			{"CLS", "0.12", "5"},
			{"INP", "240", "5"},
			{"LCP", "3100", "5"},
		},
		// Deny AS16509 and allow DE; the removed python-requests rule and
		// beta.example's rule are left out.
		"site-rules": {
			{"action", "kind", "value", "note"},
			{"allow", "country", "DE", ""},
			{"deny", "asn", "16509", "scraper on AWS"},
		},
		// Not the revoked AS16509 quarantine, nor beta.example's.
		"active-quarantines": {
			{"kind", "value", "from_ts", "to_ts", "note"},
			{"source", "Reddit", "2026-03-04 00:00:00", "2026-03-05 00:00:00", "vote brigade"},
		},
		// 4 March had 3 ok pageviews; 103's two came from Reddit.
		"daily-pageviews-quarantined": {
			{"day", "pageviews"},
			{"2026-03-03", "2"},
			{"2026-03-04", "1"},
		},
		"applied-migrations": applied,
	}
}

// TestSchemaDocExampleQueries runs every example query of docs/schema.md on
// a real ClickHouse loaded with docFixture and compares the whole result
// with docQueryWant. A query without an expectation, or an expectation
// without a query, fails the test.
func TestSchemaDocExampleQueries(t *testing.T) {
	queries := readDocQueries(t)
	cfg := chtest.Config(t)
	st := chtest.StoreFor(t, cfg)
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr: []string{cfg.Addr},
		Auth: clickhouse.Auth{Database: cfg.Database},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	checkDocQueries(t, queries, st, func(ctx context.Context, query string) ([][]string, error) {
		return queryStrings(ctx, conn, query)
	})
}

// readDocQueries parses docs/schema.md, failing the test on a malformed one.
func readDocQueries(t *testing.T) []docQuery {
	t.Helper()
	doc, err := os.ReadFile(schemaDoc)
	if err != nil {
		t.Fatal(err)
	}
	queries, err := parseDocQueries(string(doc))
	if err != nil {
		t.Fatalf("%s: %v", schemaDoc, err)
	}
	return queries
}

// docQueryRunner runs one query and returns its column names, then its
// rows, every cell as text. An engine that cannot name the columns returns
// a nil first row; the names are then not compared.
type docQueryRunner func(ctx context.Context, query string) ([][]string, error)

// checkDocQueries loads docFixture through st (a migrated, empty database),
// runs every query with run and compares each answer with docQueryWant. It
// is separate from the test so that another engine (chDB, ClickHouse 26.x)
// can be put through the same checks.
func checkDocQueries(t *testing.T, queries []docQuery, st *storage.Store, run docQueryRunner) {
	t.Helper()
	migrations, err := storage.Migrations(st.Dialect())
	if err != nil {
		t.Fatal(err)
	}
	want := docQueryWant(migrations)
	documented := map[string]bool{}
	for _, q := range queries {
		documented[q.name] = true
		if _, ok := want[q.name]; !ok {
			t.Errorf("%s:%d: query %q has no expected result in docQueryWant", schemaDoc, q.line, q.name)
		}
	}
	for name := range want {
		if !documented[name] {
			t.Errorf("docQueryWant has %q, but %s has no such query", name, schemaDoc)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	docFixture(t, st)
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, err := run(ctx, q.sql)
			if err != nil {
				t.Fatalf("%s:%d: %v\n%s", schemaDoc, q.line, err, q.sql)
			}
			w := want[q.name]
			if len(got) > 0 && got[0] == nil {
				got[0] = w[0]
			}
			if !slices.EqualFunc(got, w, slices.Equal) {
				t.Errorf("%s:%d: query %q\n got:\n%s\nwant:\n%s", schemaDoc, q.line, q.name, formatRows(got), formatRows(w))
			}
		})
	}
}

// TestSchemaDocExampleQueriesParser checks the rules parseDocQueries
// enforces on docs/schema.md, so an untested query cannot slip in.
func TestSchemaDocExampleQueriesParser(t *testing.T) {
	const fence = "```"
	tests := []struct {
		name, doc string
		want      []docQuery // nil when an error is expected
		wantErr   string
	}{
		{
			name: "two queries",
			doc: "# T\n\nText.\n\n<!-- query: a-1 -->\n" + fence + "sql\nSELECT 1;\n" + fence + "\n\nMore.\n" +
				"<!-- query: b -->\n" + fence + "sql\nSELECT x\nFROM y\n" + fence + "\n" + fence + "\nnot sql;\n" + fence + "\n",
			want: []docQuery{{name: "a-1", sql: "SELECT 1", line: 5}, {name: "b", sql: "SELECT x\nFROM y", line: 11}},
		},
		{name: "sql block without marker", doc: "Text\n" + fence + "sql\nSELECT 1\n" + fence + "\n", wantErr: "line 2: sql block without"},
		{name: "marker without block", doc: "<!-- query: a -->\nText\n", wantErr: "line 1: marker must be followed"},
		{name: "marker at end", doc: "<!-- query: a -->", wantErr: "line 1: marker must be followed"},
		{name: "duplicate name", doc: strings.Repeat("<!-- query: a -->\n"+fence+"sql\nSELECT 1\n"+fence+"\n", 2), wantErr: "line 5: query \"a\" appears twice"},
		{name: "bad name", doc: "<!-- query: A B -->\n" + fence + "sql\nSELECT 1\n" + fence + "\n", wantErr: "line 1: malformed query marker"},
		{name: "unterminated block", doc: "<!-- query: a -->\n" + fence + "sql\nSELECT 1\n", wantErr: "line 2: unterminated"},
		{name: "empty block", doc: "<!-- query: a -->\n" + fence + "sql\n" + fence + "\n", wantErr: "line 2: empty query"},
		{name: "no queries", doc: "# Nothing\n", wantErr: "no example queries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDocQueries(tt.doc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseDocQueries() = %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseDocQueries() = %#v, %v; want %#v", got, err, tt.want)
			}
		})
	}
}

// docQuery is one example query of the documentation.
type docQuery struct {
	name string
	sql  string // without the trailing semicolon
	line int    // of the marker, 1-based
}

var (
	markerRE     = regexp.MustCompile(`^<!--\s*query:`)
	markerNameRE = regexp.MustCompile(`^<!-- query: ([a-z0-9]+(?:-[a-z0-9]+)*) -->$`)
)

// parseDocQueries returns the example queries of a Markdown document: each
// is a line `<!-- query: NAME -->` directly followed by a ```sql block.
// Every ```sql block must have a marker, so that each one is tested; other
// fences (```text, ```console) are free.
func parseDocQueries(doc string) ([]docQuery, error) {
	lines := strings.Split(doc, "\n")
	var out []docQuery
	seen := map[string]int{}
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t\r")
		switch {
		case markerRE.MatchString(line):
			m := markerNameRE.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("line %d: malformed query marker %q: want <!-- query: lower-case-name -->", i+1, line)
			}
			if first, dup := seen[m[1]]; dup {
				return nil, fmt.Errorf("line %d: query %q appears twice (first on line %d)", i+1, m[1], first)
			}
			seen[m[1]] = i + 1
			if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != "```sql" {
				return nil, fmt.Errorf("line %d: marker must be followed directly by a ```sql line", i+1)
			}
			start := i + 1
			var body []string
			for i += 2; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
				body = append(body, lines[i])
			}
			if i >= len(lines) {
				return nil, fmt.Errorf("line %d: unterminated ```sql block", start+1)
			}
			sql := strings.TrimSuffix(strings.TrimSpace(strings.Join(body, "\n")), ";")
			if sql == "" {
				return nil, fmt.Errorf("line %d: empty query %q", start+1, m[1])
			}
			out = append(out, docQuery{name: m[1], sql: sql, line: seen[m[1]]})
		case strings.HasPrefix(strings.TrimSpace(line), "```sql"):
			return nil, fmt.Errorf("line %d: sql block without a <!-- query: NAME --> marker on the line before: every sql example must be tested", i+1)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no example queries (<!-- query: NAME --> followed by a ```sql block)")
	}
	return out, nil
}

// queryStrings runs a query and returns its column names followed by its
// rows, every cell as ClickHouse's text output would show it.
func queryStrings(ctx context.Context, conn driver.Conn, query string) ([][]string, error) {
	rows, err := conn.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types := rows.ColumnTypes()
	out := [][]string{rows.Columns()}
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]string, len(types))
		for i, d := range dest {
			row[i] = cellString(types[i].DatabaseTypeName(), reflect.ValueOf(d).Elem())
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// cellString formats a scanned value of ClickHouse type typ like
// clickhouse-client's TabSeparated output (arrays in its literal syntax).
func cellString(typ string, v reflect.Value) string {
	typ = strings.TrimSuffix(strings.TrimPrefix(typ, "LowCardinality("), ")")
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "NULL"
		}
		return cellString(strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")"), v.Elem())
	}
	switch x := v.Interface().(type) {
	case time.Time:
		if typ == "Date" || typ == "Date32" {
			return x.Format(time.DateOnly)
		}
		return x.Format(time.DateTime)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case uuid.UUID:
		return x.String()
	case string:
		return x
	}
	if v.Kind() == reflect.Slice {
		elem := strings.TrimSuffix(strings.TrimPrefix(typ, "Array("), ")")
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = cellString(elem, v.Index(i))
			if v.Index(i).Kind() == reflect.String || elem == "UUID" || strings.HasPrefix(elem, "Date") {
				parts[i] = "'" + parts[i] + "'"
			}
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// formatRows prints a result one row a line, ready to paste into
// docQueryWant.
func formatRows(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("\t{")
		for i, c := range r {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(c))
		}
		b.WriteString("},\n")
	}
	return b.String()
}

// docVisitor is what the fixture's events of one visitor share.
type docVisitor struct {
	source, channel, referrer string
	verdict, class            string
	score                     uint8
	reasons                   []string
}

var docVisitors = map[uint64]docVisitor{
	101: {source: "Google", channel: "search", referrer: "https://www.google.com/", verdict: "ok", score: 5},
	102: {source: "Direct / None", channel: "direct", verdict: "ok", score: 0},
	103: {source: "Reddit", channel: "social", referrer: "https://www.reddit.com/", verdict: "ok", score: 10},
	104: {source: "Google", channel: "search", referrer: "https://www.google.com/", verdict: "ok", score: 0},
	105: {source: "ChatGPT", channel: "ai", referrer: "https://chatgpt.com/", verdict: "ok", score: 5},
	201: {source: "Direct / None", channel: "direct", verdict: "ok"},
	202: {source: "Google", channel: "search", referrer: "https://www.google.com/", verdict: "ok"},
	301: {source: "Bing", channel: "search", referrer: "https://www.bing.com/", verdict: "ok"},
	302: {source: "Bing", channel: "search", referrer: "https://www.bing.com/", verdict: "ok"},
	// Bots and doubtful traffic on acme.example.
	900: {source: "Direct / None", channel: "direct", verdict: "invalid", class: "SIVT", score: 95, reasons: []string{"headless", "datacenter_asn"}},
	901: {source: "Direct / None", channel: "direct", verdict: "invalid", class: "GIVT", score: 100, reasons: []string{"declared_bot"}},
	902: {source: "Direct / None", channel: "direct", verdict: "suspect", score: 45, reasons: []string{"datacenter_asn"}},
}

// docEvents are the fixture's events: visitors 1xx and 9xx on acme.example,
// 2xx on shop.acme.example, 3xx on beta.example. Times are UTC; weeks start
// on Monday 2 March 2026.
var docEvents = []struct {
	site    uuid.UUID
	at      string
	visitor uint64
	typ     string
	name    string // custom event or vital name
	path    string
	value   float64
}{
	{docSiteAcme, "2026-02-28 23:59:59", 101, "pageview", "", "/", 0}, // before the period
	// Week 0.
	{docSiteAcme, "2026-03-02 09:00:00", 101, "pageview", "", "/", 0},
	{docSiteAcme, "2026-03-03 10:00:00", 101, "pageview", "", "/pricing", 0},
	{docSiteAcme, "2026-03-03 10:00:02", 101, "vital", "LCP", "/pricing", 1200},
	{docSiteAcme, "2026-03-03 10:20:00", 101, "custom", "signup", "/pricing", 0},
	{docSiteAcme, "2026-03-03 11:00:00", 102, "pageview", "", "/pricing", 0},
	{docSiteAcme, "2026-03-03 11:00:03", 102, "vital", "LCP", "/pricing", 2400},
	{docSiteAcme, "2026-03-03 11:00:40", 102, "vital", "INP", "/pricing", 120},
	{docSiteAcme, "2026-03-03 13:30:00", 102, "custom", "signup", "/pricing", 0}, // 2.5 h after /pricing
	{docSiteAcme, "2026-03-04 09:00:00", 103, "pageview", "", "/pricing", 0},
	{docSiteAcme, "2026-03-04 09:00:05", 103, "vital", "CLS", "/pricing", 0.05},
	{docSiteAcme, "2026-03-04 09:02:00", 103, "pageview", "", "/docs", 0}, // ok, with the reason vpn
	{docSiteAcme, "2026-03-04 09:02:04", 103, "vital", "LCP", "/docs", 4000},
	{docSiteAcme, "2026-03-04 12:00:00", 104, "pageview", "", "/", 0},
	{docSiteAcme, "2026-03-04 12:00:02", 104, "vital", "LCP", "/", 1800},
	{docSiteAcme, "2026-03-04 12:00:30", 104, "vital", "INP", "/", 80},
	{docSiteAcme, "2026-03-04 12:01:00", 104, "vital", "CLS", "/", 0.01},
	{docSiteAcme, "2026-03-04 12:01:01", 104, "vital", "FCP", "/", 900},
	{docSiteAcme, "2026-03-05 03:00:00", 900, "pageview", "", "/pricing", 0},
	{docSiteAcme, "2026-03-05 03:00:01", 900, "vital", "LCP", "/pricing", 9000},
	{docSiteAcme, "2026-03-05 03:00:30", 900, "custom", "signup", "/pricing", 0},
	{docSiteAcme, "2026-03-05 03:01:00", 900, "pageview", "", "/", 0},
	{docSiteAcme, "2026-03-06 04:00:00", 901, "pageview", "", "/", 0},
	{docSiteAcme, "2026-03-06 04:01:00", 901, "pageview", "", "/pricing", 0},
	{docSiteAcme, "2026-03-06 14:00:00", 902, "pageview", "", "/docs", 0},
	{docSiteShop, "2026-03-05 10:00:00", 201, "pageview", "", "/products", 0},
	{docSiteShop, "2026-03-05 10:03:00", 201, "pageview", "", "/cart", 0},
	{docSiteBeta, "2026-03-03 10:00:00", 301, "pageview", "", "/pricing", 0},
	{docSiteBeta, "2026-03-03 10:10:00", 301, "custom", "signup", "/pricing", 0},
	{docSiteBeta, "2026-03-03 11:00:00", 302, "pageview", "", "/pricing", 0},
	{docSiteBeta, "2026-03-04 08:00:00", 301, "pageview", "", "/", 0},
	// Week 1.
	{docSiteAcme, "2026-03-10 08:00:00", 101, "pageview", "", "/blog/launch", 0},
	{docSiteAcme, "2026-03-10 08:00:02", 101, "vital", "LCP", "/blog/launch", 3100},
	{docSiteAcme, "2026-03-10 08:01:00", 101, "vital", "INP", "/blog/launch", 400},
	{docSiteAcme, "2026-03-10 15:00:00", 105, "pageview", "", "/pricing", 0},
	{docSiteAcme, "2026-03-10 15:00:03", 105, "vital", "CLS", "/pricing", 0.3},
	{docSiteAcme, "2026-03-10 15:45:00", 105, "custom", "signup", "/pricing", 0},
	{docSiteAcme, "2026-03-10 15:46:00", 105, "pageview", "", "/docs", 0},
	{docSiteAcme, "2026-03-11 12:00:00", 102, "pageview", "", "/", 0},
	{docSiteAcme, "2026-03-11 12:00:30", 102, "vital", "INP", "/", 160},
	{docSiteAcme, "2026-03-11 12:01:00", 102, "pageview", "", "/pricing", 0},
	{docSiteAcme, "2026-03-11 12:01:05", 102, "vital", "CLS", "/pricing", 0.12},
	{docSiteShop, "2026-03-12 16:00:00", 202, "pageview", "", "/products", 0},
	// Weeks 2 to 4, and after the period.
	{docSiteAcme, "2026-03-17 08:00:00", 101, "pageview", "", "/", 0},
	{docSiteAcme, "2026-03-17 08:00:40", 101, "vital", "INP", "/", 240},
	{docSiteAcme, "2026-03-17 08:00:41", 101, "vital", "CLS", "/", 0.08},
	{docSiteAcme, "2026-03-24 18:00:00", 103, "pageview", "", "/docs", 0},
	{docSiteAcme, "2026-03-31 23:59:59", 104, "pageview", "", "/docs", 0},
	{docSiteAcme, "2026-04-01 00:00:00", 102, "pageview", "", "/", 0},
}

// docFixture stores the fixture's sites, events and rejection counts.
func docFixture(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	created := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	sites := []storage.Site{
		// acme.example is stored twice: FINAL must pick the second version.
		{ID: docSiteAcme, TenantID: docTenantAcme, Name: "Acme (draft)", Domain: "acme.example", PublicKey: "pk_acme", RetentionDays: 400},
		{ID: docSiteAcme, TenantID: docTenantAcme, Name: "Acme", Domain: "acme.example", PublicKey: "pk_acme", RetentionDays: 400},
		{ID: docSiteShop, TenantID: docTenantAcme, Name: "Acme Shop", Domain: "shop.acme.example", PublicKey: "pk_shop"},
		{ID: docSiteBeta, TenantID: docTenantBeta, Name: "Beta", Domain: "beta.example", PublicKey: "pk_beta"},
	}
	hosts := map[uuid.UUID]string{}
	for _, s := range sites {
		s.CreatedAt = created
		s.SecretHash = fmt.Sprintf("%064x", s.ID[:])
		s.SecretVersion = 1
		s.AllowedOrigins = []string{"https://" + s.Domain}
		if err := st.PutSite(ctx, s); err != nil {
			t.Fatal(err)
		}
		hosts[s.ID] = s.Domain
	}

	events := make([]storage.Event, len(docEvents))
	for i, e := range docEvents {
		ts, err := time.ParseInLocation(time.DateTime, e.at, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := docVisitors[e.visitor]
		if !ok {
			t.Fatalf("docEvents[%d]: visitor %d not in docVisitors", i, e.visitor)
		}
		h := fnv.New64a()
		fmt.Fprintf(h, "schemadoc/%d", i)
		events[i] = storage.Event{
			SiteID: e.site, TS: ts, EventID: h.Sum64(),
			PageLoadID: uuid.NewSHA1(e.site, fmt.Appendf(nil, "%d/%s/%s", e.visitor, e.at[:13], e.path)),
			Seq:        uint32(i + 1), Type: e.typ, Name: e.name,
			VisitorID: e.visitor, SessionID: e.visitor<<16 | uint64(ts.YearDay()),
			Hostname: hosts[e.site], Pathname: e.path, Title: e.path,
			Referrer: v.referrer, Source: v.source, Channel: v.channel,
			Country: "DE", Browser: "Firefox", BrowserVersion: "140", OS: "Linux", Device: "desktop",
			ScreenWidth: 1920, Language: "de-DE", Timezone: "Europe/Berlin",
			Value: e.value,
			Score: v.score, Verdict: v.verdict, Class: v.class, Reasons: v.reasons,
			Ingest: "browser",
		}
		if e.visitor == 103 && e.at == "2026-03-04 09:02:00" {
			// A weak signal on an ok event: not invalid traffic.
			events[i].Reasons = []string{"vpn"}
		}
	}
	if err := st.InsertEvents(ctx, events); err != nil {
		t.Fatal(err)
	}

	docRulesAndQuarantines(t, st, created)

	minute := func(s string) time.Time {
		ts, err := time.ParseInLocation(time.DateTime, s, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	// Two inserts with a key in common: SummingMergeTree adds them up only
	// when it merges, so readers must sum(count).
	for _, batch := range [][]storage.Rejection{
		{
			{SiteID: docSiteAcme, Minute: minute("2026-03-03 10:00:00"), Reason: "bad_token", Count: 3},
			{SiteID: docSiteAcme, Minute: minute("2026-03-05 03:00:00"), Reason: "rate_limited", Count: 10},
			{SiteID: docSiteAcme, Minute: minute("2026-03-05 12:00:00"), Reason: "origin_not_allowed", Count: 4},
			{SiteID: docSiteBeta, Minute: minute("2026-03-05 12:00:00"), Reason: "bad_token", Count: 50},
			{SiteID: uuid.Nil, Minute: minute("2026-03-05 12:00:00"), Reason: "unknown_site", Count: 7},
		},
		{
			{SiteID: docSiteAcme, Minute: minute("2026-03-03 10:00:00"), Reason: "bad_token", Count: 2},
			{SiteID: docSiteAcme, Minute: minute("2026-03-06 07:07:00"), Reason: "pow_failed", Count: 1},
			{SiteID: docSiteAcme, Minute: minute("2026-03-20 08:15:00"), Reason: "bad_token", Count: 1},
			{SiteID: docSiteAcme, Minute: minute("2026-04-01 00:00:00"), Reason: "bad_token", Count: 100},
		},
	} {
		if err := st.InsertRejections(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
}

// docRulesAndQuarantines stores the fixture's rules and quarantines, with a
// removed rule, a revoked quarantine and another site's of each.
func docRulesAndQuarantines(t *testing.T, st *storage.Store, created time.Time) {
	t.Helper()
	ctx := context.Background()
	for _, r := range []storage.SiteRule{
		{SiteID: docSiteAcme, Action: "deny", Kind: "asn", Value: "AS16509", Note: "scraper on AWS"},
		{SiteID: docSiteAcme, Action: "allow", Kind: "country", Value: "de"},
		{SiteID: docSiteAcme, Action: "deny", Kind: "ua", Value: "python-requests"},
		{SiteID: docSiteBeta, Action: "deny", Kind: "path", Value: "/admin/*"},
	} {
		r.CreatedBy, r.CreatedAt = "cli", created
		stored, err := st.PutRule(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind == "ua" {
			if _, err := st.DeleteRule(ctx, r.SiteID, stored.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	day := func(s string) time.Time {
		ts, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	for _, q := range []storage.Quarantine{
		{SiteID: docSiteAcme, From: day("2026-03-04"), To: day("2026-03-05"), Kind: "source", Value: "Reddit", Note: "vote brigade"},
		{SiteID: docSiteAcme, From: day("2026-03-01"), To: day("2026-04-01"), Kind: "asn", Value: "16509", Note: "revoked"},
		{SiteID: docSiteBeta, From: day("2026-03-01"), To: day("2026-04-01"), Kind: "country", Value: "DE"},
	} {
		q.CreatedBy, q.CreatedAt = "cli", created
		stored, err := st.PutQuarantine(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if q.Note == "revoked" {
			if _, err := st.RevokeQuarantine(ctx, q.SiteID, stored.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}
