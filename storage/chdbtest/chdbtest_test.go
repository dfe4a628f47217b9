//go:build chdb

package chdbtest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

func mustExec(t *testing.T, e *Engine, query string) {
	t.Helper()
	if err := e.Exec(query); err != nil {
		t.Fatalf("Exec(%s): %v", query, err)
	}
}

func checkQuery(t *testing.T, e *Engine, query string, want [][]string) {
	t.Helper()
	got, err := e.Query(query)
	if err != nil {
		t.Fatalf("Query(%s): %v", query, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Query(%s)\n got %q\nwant %q", query, got, want)
	}
}

func TestVersion(t *testing.T) {
	e := Open(t)
	v, err := e.Version()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("chDB engine version %s", v)
	if !strings.HasPrefix(v, "26.") {
		t.Errorf("Version() = %q, want 26.x", v)
	}
}

// tricky holds a tab, a newline, both quotes, a backslash, a `\N` look-alike,
// a carriage return and non-ASCII text.
const tricky = "tab\there\nnew line 'single' \"double\" back\\slash \\N cr\r é✓"

// sqlString quotes s as a ClickHouse string literal.
func sqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func TestMergeTree(t *testing.T) {
	e := Open(t)
	db := e.Database() + "_analytics" // explicitly named databases are shared per process: keep it unique
	mustExec(t, e, "CREATE DATABASE "+db)
	t.Cleanup(func() { _ = e.Exec("DROP DATABASE IF EXISTS " + db) })

	mustExec(t, e, `CREATE TABLE `+db+`.events (
		site_id  LowCardinality(String),
		ts       DateTime('UTC'),
		event_id UUID,
		path     String,
		tags     Array(String),
		visits   UInt64
	) ENGINE = MergeTree
	PARTITION BY toYYYYMM(ts)
	ORDER BY (site_id, toDate(ts))`)
	mustExec(t, e, `INSERT INTO `+db+`.events VALUES
		('site-b', '2024-02-01 00:00:00', '00000000-0000-0000-0000-000000000003', '/b', [], 7),
		('site-a', '2024-01-31 23:59:59', '123e4567-e89b-12d3-a456-426614174000', `+sqlString(tricky)+`, ['x', 'tab\tin', 'it\'s'], 1),
		('site-a', '2024-01-15 10:30:00', 'ffffffff-ffff-ffff-ffff-ffffffffffff', '', ['solo'], 18446744073709551615)`)

	checkQuery(t, e, `SELECT site_id, ts, event_id, path, tags, visits FROM `+db+`.events ORDER BY site_id, ts`, [][]string{
		{"site-a", "2024-01-15 10:30:00", "ffffffff-ffff-ffff-ffff-ffffffffffff", "", "['solo']", "18446744073709551615"},
		{"site-a", "2024-01-31 23:59:59", "123e4567-e89b-12d3-a456-426614174000", tricky, `['x','tab\tin','it\'s']`, "1"},
		{"site-b", "2024-02-01 00:00:00", "00000000-0000-0000-0000-000000000003", "/b", "[]", "7"},
	})
	checkQuery(t, e, `SELECT path = `+sqlString(tricky)+`, length(path), tags[2] FROM `+db+`.events WHERE visits = 1`, [][]string{
		{"1", fmt.Sprint(len(tricky)), "tab\tin"},
	})
	checkQuery(t, e, `SELECT toTypeName(site_id), toTypeName(ts), toTypeName(event_id), toTypeName(tags)
		FROM `+db+`.events LIMIT 1`, [][]string{
		{"LowCardinality(String)", "DateTime('UTC')", "UUID", "Array(String)"},
	})
	checkQuery(t, e, `SELECT partition_key, sorting_key, engine FROM system.tables
		WHERE database = '`+db+`' AND name = 'events'`, [][]string{
		{"toYYYYMM(ts)", "site_id, toDate(ts)", "MergeTree"},
	})
	checkQuery(t, e, `SELECT partition, sum(rows) FROM system.parts
		WHERE database = '`+db+`' AND table = 'events' AND active
		GROUP BY partition ORDER BY partition`, [][]string{
		{"202401", "2"},
		{"202402", "1"},
	})
	checkQuery(t, e, `SELECT site_id, toDate(ts) AS day, sum(visits), groupArray(path)
		FROM `+db+`.events WHERE site_id = 'site-b' GROUP BY site_id, day ORDER BY day`, [][]string{
		{"site-b", "2024-02-01", "7", "['/b']"},
	})
	checkQuery(t, e, `SELECT * FROM `+db+`.events WHERE site_id = 'nope'`, [][]string{})
}

func TestReplacingMergeTreeFinal(t *testing.T) {
	e := Open(t)
	// Unqualified names land in the Engine's own database.
	mustExec(t, e, `CREATE TABLE sessions (
		site_id    LowCardinality(String),
		session_id UUID,
		started    DateTime('UTC'),
		pageviews  UInt32,
		exit_path  String,
		version    UInt64
	) ENGINE = ReplacingMergeTree(version)
	PARTITION BY toYYYYMM(started)
	ORDER BY (site_id, session_id)`)
	// Keep the parts apart so that only FINAL collapses the versions.
	mustExec(t, e, "SYSTEM STOP MERGES sessions")
	for _, stmt := range []string{
		`INSERT INTO sessions VALUES ('s', '00000000-0000-0000-0000-000000000001', '2024-03-01 12:00:00', 1, '/', 1),
		                             ('s', '00000000-0000-0000-0000-000000000002', '2024-03-01 13:00:00', 1, '/x', 1)`,
		`INSERT INTO sessions VALUES ('s', '00000000-0000-0000-0000-000000000001', '2024-03-01 12:00:00', 3, '/pricing', 3)`,
		`INSERT INTO sessions VALUES ('s', '00000000-0000-0000-0000-000000000001', '2024-03-01 12:00:00', 2, '/stale', 2)`,
	} {
		mustExec(t, e, stmt)
	}
	checkQuery(t, e, "SELECT count() FROM sessions", [][]string{{"4"}})
	checkQuery(t, e, "SELECT session_id, pageviews, exit_path, version FROM sessions FINAL ORDER BY session_id", [][]string{
		{"00000000-0000-0000-0000-000000000001", "3", "/pricing", "3"},
		{"00000000-0000-0000-0000-000000000002", "1", "/x", "1"},
	})
	checkQuery(t, e, "SELECT database, name FROM system.tables WHERE name = 'sessions' AND database = currentDatabase()", [][]string{
		{e.Database(), "sessions"},
	})
}

// TestAllBytes round-trips every byte value through a String column.
func TestAllBytes(t *testing.T) {
	e := Open(t)
	var all strings.Builder
	for b := 0; b < 256; b++ {
		all.WriteByte(byte(b))
	}
	mustExec(t, e, "CREATE TABLE bytes (s String, fs FixedString(256), lc LowCardinality(Nullable(String))) ENGINE = MergeTree ORDER BY tuple()")
	mustExec(t, e, fmt.Sprintf("INSERT INTO bytes SELECT unhex('%X') AS s, s, s", all.String()))
	checkQuery(t, e, "SELECT s, fs, lc, length(s) FROM bytes", [][]string{{all.String(), all.String(), all.String(), "256"}})
}

func TestValueForms(t *testing.T) {
	e := Open(t)
	checkQuery(t, e, `SELECT NULL, CAST(NULL, 'Nullable(String)'), '\\N', 'x'::Nullable(String),
			['a\tb', NULL], map('k\n', 'it\'s'), tuple('t\\', 1.5, toDate('2024-05-06')),
			'v'::Enum8('v' = 1), toDecimal64(3.10, 2), -0., nan, true, toIPv4('10.0.0.1'), '',
			toFixedString('ab', 4)`,
		[][]string{{
			`\N`, `\N`, `\N`, "x",
			`['a\tb',NULL]`, `{'k\n':'it\'s'}`, `('t\\',1.5,'2024-05-06')`,
			"v", "3.1", "-0", "nan", "true", "10.0.0.1", "",
			"ab\x00\x00",
		}})
	checkQuery(t, e, "SELECT number, toString(number) FROM numbers(3) ORDER BY number DESC", [][]string{
		{"2", "2"}, {"1", "1"}, {"0", "0"},
	})
	checkQuery(t, e, "SELECT '' FROM numbers(2)", [][]string{{""}, {""}})
	checkQuery(t, e, "SELECT 1 WHERE 0", [][]string{})
	checkQuery(t, e, "CREATE TABLE nothing (x UInt8) ENGINE = Memory", [][]string{})
}

func TestErrors(t *testing.T) {
	e := Open(t)
	if err := e.Exec("CREATE TABLE broken ("); err == nil || !strings.Contains(err.Error(), "SYNTAX_ERROR") {
		t.Errorf("Exec(syntax error) = %v, want a SYNTAX_ERROR", err)
	}
	if _, err := e.Query("SELECT no_such_column"); err == nil || !strings.Contains(err.Error(), "UNKNOWN_IDENTIFIER") {
		t.Errorf("Query(unknown column) = %v, want UNKNOWN_IDENTIFIER", err)
	}
	// chDB hands output produced before an error to the next query; the
	// Engine must swallow it.
	if err := e.Exec("SELECT 'leak'; SELECT throwIf(1)"); err == nil {
		t.Error("Exec(throwIf(1)) succeeded")
	}
	if _, err := e.Query("SELECT 'leak' AS x FROM numbers(100000) WHERE throwIf(number = 99999) = 0 SETTINGS max_block_size = 10"); err == nil {
		t.Error("Query(throwIf) succeeded")
	}
	checkQuery(t, e, "SELECT 'clean'", [][]string{{"clean"}})
	if rows, err := e.Query("SELECT 1 FORMAT JSON"); err == nil {
		t.Errorf("Query with a FORMAT clause = %q, want an error", rows)
	}
}

func TestEnginesAreIsolated(t *testing.T) {
	a, b := Open(t), Open(t)
	if a.Database() == b.Database() {
		t.Fatalf("both engines use database %q", a.Database())
	}
	for i, e := range []*Engine{a, b} {
		mustExec(t, e, "CREATE TABLE t (v String) ENGINE = MergeTree ORDER BY v")
		mustExec(t, e, fmt.Sprintf("INSERT INTO t VALUES ('engine %d')", i))
	}
	checkQuery(t, a, "SELECT v, currentDatabase() = '"+a.Database()+"' FROM t", [][]string{{"engine 0", "1"}})
	checkQuery(t, b, "SELECT v, currentDatabase() = '"+b.Database()+"' FROM t", [][]string{{"engine 1", "1"}})

	for i := range 4 {
		t.Run(fmt.Sprint("parallel", i), func(t *testing.T) {
			t.Parallel()
			e := Open(t)
			mustExec(t, e, "CREATE TABLE t (v UInt32) ENGINE = MergeTree ORDER BY v")
			for j := range 20 {
				mustExec(t, e, fmt.Sprintf("INSERT INTO t VALUES (%d)", i*100+j))
			}
			checkQuery(t, e, "SELECT count(), min(v), max(v) FROM t", [][]string{
				{"20", fmt.Sprint(i * 100), fmt.Sprint(i*100 + 19)},
			})
		})
	}
}

func TestUnescapeTSV(t *testing.T) {
	for in, want := range map[string]string{
		``:                 "",
		`plain`:            "plain",
		`a\tb\nc\\d\'e\0f`: "a\tb\nc\\d'e\x00f",
		`\b\f\r\a\v`:       "\b\f\r\a\v",
		`\\N`:              `\N`,
		`end\`:             `end\`,
		`é\t✓`:             "é\t✓",
	} {
		if got := unescapeTSV(in); got != want {
			t.Errorf("unescapeTSV(%q) = %q, want %q", in, got, want)
		}
	}
	for typ, want := range map[string]bool{
		"String":                           false,
		"LowCardinality(Nullable(String))": false,
		"Nullable(Tuple(a String))":        true,
		"Array(String)":                    true,
		"Map(String, UInt64)":              true,
		"DateTime('UTC')":                  false,
		"Enum8('Array(' = 1)":              false,
	} {
		if got := isCompositeType(typ); got != want {
			t.Errorf("isCompositeType(%q) = %v, want %v", typ, got, want)
		}
	}
}
