package storage_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// Every query the storage layer sends about event data must be bound to
// one site: a query on events, rejections or quarantines without
// "site_id = ?" could leak another tenant's numbers. This reads the package's own source, so a
// new query cannot forget.
func TestEveryEventQueryIsBoundToASite(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	readsEventData := regexp.MustCompile(`(?i)\bFROM\s+(events|rejections|quarantines)\b`)
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !readsEventData.MatchString(s) {
				return true
			}
			checked++
			if !strings.Contains(s, "site_id = ?") {
				t.Errorf("%s: query reads event data without binding site_id:\n%s", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
	if checked < 5 {
		t.Fatalf("found only %d event-data queries; the scan is broken", checked)
	}
}

// TestStatsQueriesBindTheSiteInEverySubquery runs every statistics query,
// with every kind of filter, against a recorder and checks the SQL as sent:
// each read of events (subqueries included) is bound to the query's site,
// and the bound value at that placeholder is the site's id.
func TestStatsQueriesBindTheSiteInEverySubquery(t *testing.T) {
	rec := &recorder{}
	st := storage.NewStoreOn(rec, storage.MinSupported)
	ctx := context.Background()
	site := uuid.MustParse("00000000-0000-4000-8000-0000000005b1")
	q := storage.Query{SiteID: site, From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), Compare: true}
	for _, s := range []string{"source:Google", "!page:/blog/*", "exit_page:/", "event:signup", "!prop:plan=pro", "country:DE"} {
		f, err := storage.ParseFilter(s)
		if err != nil {
			t.Fatal(err)
		}
		q.Filters = append(q.Filters, f)
	}
	_, _ = st.Aggregate(ctx, q)
	_, _ = st.Timeseries(ctx, q, storage.IntervalDay)
	for _, d := range []storage.Dimension{storage.DimSource, storage.DimPage, storage.DimEntryPage, storage.DimEvent, storage.PropDimension("plan")} {
		_, _ = st.Breakdown(ctx, q, d, 0)
	}
	_, _ = st.Vitals(ctx, q, 0)
	_, _ = st.DOMFindings(ctx, q, 0)
	_, _ = st.PropKeys(ctx, q, 0)
	_, _ = st.Realtime(ctx, site, q.From)
	_, _ = st.CountIngest(ctx, site, "demo")
	if len(rec.queries) < 12 {
		t.Fatalf("recorded %d queries; the test is broken", len(rec.queries))
	}
	from := regexp.MustCompile(`FROM events\b`)
	for _, r := range rec.queries {
		// Each statistic first reads the site's quarantines: bound too.
		if strings.Contains(r.sql, "FROM quarantines FINAL WHERE site_id = ?") {
			if len(r.args) == 0 || r.args[0] != site {
				t.Errorf("quarantines read for %v, not the site:\n%s", r.args, r.sql)
			}
			continue
		}
		reads := from.FindAllStringIndex(r.sql, -1)
		if len(reads) == 0 {
			t.Errorf("a statistics query without events: %s", r.sql)
		}
		for _, loc := range reads {
			rest := r.sql[loc[1]:]
			where := strings.Index(rest, "WHERE site_id = ?")
			if where < 0 || strings.Contains(rest[:where], "FROM") || strings.Contains(rest[:where], "SELECT") {
				t.Errorf("a read of events not bound to a site:\n%s", r.sql)
				continue
			}
			arg := strings.Count(r.sql[:loc[1]+where], "?")
			if arg >= len(r.args) || r.args[arg] != site {
				t.Errorf("site_id placeholder %d is bound to %v, not the site:\n%s", arg, r.args[min(arg, len(r.args)-1)], r.sql)
			}
		}
	}
}

type recorded struct {
	sql  string
	args []any
}

// recorder is a database that keeps the SQL and answers with no rows.
type recorder struct{ queries []recorded }

func (r *recorder) Exec(_ context.Context, query string, args ...any) error {
	r.queries = append(r.queries, recorded{query, args})
	return nil
}

func (r *recorder) Query(_ context.Context, query string, args ...any) (driver.Rows, error) {
	r.queries = append(r.queries, recorded{query, args})
	return noRows{}, nil
}

type noRows struct{ driver.Rows }

func (noRows) Next() bool   { return false }
func (noRows) Err() error   { return nil }
func (noRows) Close() error { return nil }
