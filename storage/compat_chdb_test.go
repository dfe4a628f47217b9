//go:build chdb

package storage_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chdbtest"
	"github.com/verityhq/verity/storage/chtest"
)

// TestCompatibility18And26 applies every migration and runs the storage
// layer's queries on Debian's ClickHouse 18.16 server and on ClickHouse 26.x
// (chDB, in process), with the same fixture, and requires the same answers.
func TestCompatibility18And26(t *testing.T) {
	old := chtest.Store(t)
	if !strings.HasPrefix(old.Dialect().String(), "ClickHouse 18.") {
		t.Logf("note: the server engine is %s, not 18.x", old.Dialect())
	}
	cur, eng, version := migratedChDB(t)
	// The version difference the dialect exists for: 18.16's DDL setting is
	// an error on a current server.
	if err := eng.Exec(withSettings("CREATE TABLE lc_probe (s LowCardinality(String)) ENGINE = MergeTree ORDER BY s", storage.MinSupported)); err == nil {
		t.Fatalf("%s accepted allow_experimental_low_cardinality_type; the dialect split may be unnecessary", version)
	}

	results := map[string][]string{}
	for _, eng := range []struct {
		name string
		st   *storage.Store
	}{{"18.16", old}, {version, cur}} {
		out, err := exerciseStore(eng.st)
		if err != nil {
			t.Fatalf("on %s: %v", eng.name, err)
		}
		results[eng.name] = out
	}
	a, b := results["18.16"], results[version]
	if len(a) < 10 {
		t.Fatalf("only %d results compared; the exercise is broken", len(a))
	}
	t.Logf("%d answers compared, e.g. %s", len(a), a[len(a)-1])
	if !slices.Equal(a, b) {
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Errorf("answers differ:\n  18.16: %s\n  %s: %s", a[i], version, b[i])
			}
		}
		if len(a) != len(b) {
			t.Errorf("%d answers on 18.16, %d on %s", len(a), len(b), version)
		}
	}
}

// migratedChDB opens a chDB database, applies every migration rendered for
// its version and records them as `verity migrate` would (Store.Migrate
// needs a native connection), and returns a Store running on it.
func migratedChDB(t *testing.T) (*storage.Store, *chdbtest.Engine, string) {
	t.Helper()
	eng := chdbtest.Open(t)
	version, err := eng.Version()
	if err != nil {
		t.Fatal(err)
	}
	d, err := storage.ParseVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	if d.Major < 24 {
		t.Fatalf("chDB engine is %s, want a current ClickHouse (24+)", version)
	}
	ms, err := storage.Migrations(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Exec("CREATE TABLE schema_migrations (version UInt32, name String, checksum String, applied_at DateTime('UTC')) ENGINE = MergeTree ORDER BY version"); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for i, stmt := range m.Statements {
			if err := eng.Exec(withSettings(stmt, d)); err != nil {
				t.Fatalf("migration %04d_%s statement %d on %s: %v\n%s", m.Version, m.Name, i+1, version, err, stmt)
			}
		}
		if err := eng.Exec(fmt.Sprintf("INSERT INTO schema_migrations VALUES (%d, %s, %s, now())", m.Version, quote(m.Name), quote(m.Checksum))); err != nil {
			t.Fatal(err)
		}
	}
	return storage.NewStoreOn(chdbQuerier{eng}, d), eng, version
}

func withSettings(stmt string, d storage.Dialect) string {
	var parts []string
	for k, v := range d.DDLSettings() {
		parts = append(parts, fmt.Sprintf("%s = %v", k, v))
	}
	if len(parts) == 0 {
		return stmt
	}
	return stmt + " SETTINGS " + strings.Join(parts, ", ")
}

// exerciseStore runs every query of the storage layer on a fixture with
// fixed ids and times and returns the answers as comparable strings.
func exerciseStore(st *storage.Store) ([]string, error) {
	ctx := context.Background()
	var out []string
	add := func(name string, v any) { out = append(out, fmt.Sprintf("%s: %+v", name, v)) }

	t1, err := st.CreateTenant(ctx, "Acme")
	if err != nil {
		return nil, err
	}
	if _, err := st.CreateTenant(ctx, "Beta O'Hare \\ \t co"); err != nil {
		return nil, err
	}
	ts, err := st.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
	}
	add("tenant names", names)
	got, err := st.TenantByID(ctx, t1.ID)
	if err != nil {
		return nil, err
	}
	add("tenant by id", got.Name == "Acme" && got.ID == t1.ID)
	_, err = st.TenantByID(ctx, uuid.New())
	add("missing tenant", errors.Is(err, storage.ErrNotFound))

	u, err := st.CreateUser(ctx, "ops@acme.example", "Ops", "$argon2id$fake")
	if err != nil {
		return nil, err
	}
	_, err = st.CreateUser(ctx, "ops@acme.example", "Again", "x")
	add("duplicate email", errors.Is(err, storage.ErrExists))
	u.Disabled = true
	if err := st.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	byEmail, err := st.UserByEmail(ctx, "ops@acme.example")
	if err != nil {
		return nil, err
	}
	add("user by email", fmt.Sprint(byEmail.Name, byEmail.PasswordHash, byEmail.Disabled, byEmail.ID == u.ID))
	byID, err := st.UserByID(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	add("user by id", byID.Email)
	if err := st.SetMembership(ctx, storage.Membership{TenantID: t1.ID, UserID: u.ID, Role: storage.RoleViewer}); err != nil {
		return nil, err
	}
	if err := st.SetMembership(ctx, storage.Membership{TenantID: t1.ID, UserID: u.ID, Role: storage.RoleAdmin}); err != nil {
		return nil, err
	}
	ms, err := st.MembershipsOfUser(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	add("memberships", fmt.Sprint(len(ms), ms[0].Role, ms[0].TenantID == t1.ID))

	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	siteA := storage.Site{ID: uuid.MustParse("00000000-0000-4000-8000-00000000000a"), TenantID: t1.ID, Name: "A", Domain: "a.example",
		PublicKey: "pk_a", SecretHash: "h1", SecretVersion: 1, AllowedOrigins: []string{"https://a.example", "https://*.a.example"}, RetentionDays: 30, RespectDNT: true, CreatedAt: created}
	siteB := storage.Site{ID: uuid.MustParse("00000000-0000-4000-8000-00000000000b"), TenantID: t1.ID, Name: "B", Domain: "b.example", PublicKey: "pk_b", CreatedAt: created}
	for _, s := range []storage.Site{siteA, siteB} {
		if err := st.PutSite(ctx, s); err != nil {
			return nil, err
		}
	}
	siteB.PublicKey = "pk_b2"
	if err := st.PutSite(ctx, siteB); err != nil {
		return nil, err
	}
	for _, f := range []storage.SiteFilter{{TenantID: t1.ID}, {PublicKey: "pk_b2"}, {PublicKey: "pk_b"}, {SiteID: siteA.ID}} {
		sites, err := st.Sites(ctx, f)
		if err != nil {
			return nil, err
		}
		for i := range sites {
			sites[i].TenantID = uuid.Nil // random per engine
		}
		add(fmt.Sprintf("sites %+v", f.PublicKey), sites)
	}
	if err := st.Audit(ctx, storage.AuditEntry{TS: created, TenantID: siteA.ID, Actor: "cli", Action: "site.create", Target: "x", Detail: "d"}); err != nil {
		return nil, err
	}
	log, err := st.AuditLog(ctx, siteA.ID, 10)
	if err != nil {
		return nil, err
	}
	add("audit", log)

	events := testEvents(siteA.ID, 0, 40)
	for i := range events {
		events[i].TS = created.Add(time.Duration(i) * time.Hour)
		events[i].PageLoadID = uuid.MustParse(fmt.Sprintf("00000000-0000-4000-8000-%012d", i))
		events[i].Reasons = []string{"givt.declared_bot", "it's \"quoted\""}
		events[i].ASN = uint32(64500 + i%3)
		events[i].VisitorID = uint64(i % 5)
		if i%4 == 0 {
			events[i].Verdict = "suspect"
		}
	}
	if err := st.InsertEvents(ctx, events); err != nil {
		return nil, err
	}
	rows, distinct, err := st.CountEvents(ctx, siteA.ID)
	if err != nil {
		return nil, err
	}
	add("count", fmt.Sprint(rows, distinct))
	ids := []uint64{events[0].EventID, events[39].EventID, 12345}
	found, err := st.ExistingEventIDs(ctx, siteA.ID, events[0].TS, events[39].TS, ids)
	if err != nil {
		return nil, err
	}
	add("existing ids", fmt.Sprint(len(found), found[events[0].EventID], found[events[39].EventID], found[12345]))
	if err := st.InsertRejections(ctx, []storage.Rejection{{SiteID: siteA.ID, Minute: created, Reason: "bad_token", Count: 3}}); err != nil {
		return nil, err
	}
	if err := exerciseRulesAndQuarantines(ctx, st, siteA.ID, created, add); err != nil {
		return nil, err
	}
	return out, nil
}

// exerciseRulesAndQuarantines continues exerciseStore: rules, and the
// views and quality report of siteA's 40 hourly events (ASNs 64500, 64501,
// 64502 in turn) before, during and after a quarantine.
func exerciseRulesAndQuarantines(ctx context.Context, st *storage.Store, site uuid.UUID, created time.Time, add func(string, any)) error {
	r, err := st.PutRule(ctx, storage.SiteRule{SiteID: site, ID: uuid.MustParse("00000000-0000-4000-8000-0000000000f1"), Action: "deny", Kind: "ua", Value: "It's \\ \"Bot\"", CreatedBy: "cli", CreatedAt: created})
	if err != nil {
		return err
	}
	rules, err := st.Rules(ctx, site)
	if err != nil {
		return err
	}
	add("rules", rules)
	if _, err := st.DeleteRule(ctx, site, r.ID); err != nil {
		return err
	}
	all, err := st.AllRules(ctx)
	if err != nil {
		return err
	}
	add("all rules after delete", all)

	from, to := created, created.Add(40*time.Hour)
	report := func(label string) error {
		for _, v := range []storage.View{storage.ViewHuman, storage.ViewAll, storage.ViewSuspicious} {
			tot, err := st.Totals(ctx, site, from, to, v)
			if err != nil {
				return err
			}
			add(label+" totals "+string(v), tot)
		}
		q, err := st.TrafficQuality(ctx, site, from, to)
		add(label+" quality", q)
		return err
	}
	if err := report("before"); err != nil {
		return err
	}
	q, err := st.PutQuarantine(ctx, storage.Quarantine{SiteID: site, ID: uuid.MustParse("00000000-0000-4000-8000-0000000000f2"),
		From: created.Add(10 * time.Hour), To: created.Add(20 * time.Hour), Kind: "asn", Value: "AS64501", Note: "it's", CreatedBy: "cli", CreatedAt: created})
	if err != nil {
		return err
	}
	if _, err := st.PutQuarantine(ctx, storage.Quarantine{SiteID: site, ID: uuid.MustParse("00000000-0000-4000-8000-0000000000f3"),
		From: created.Add(30 * time.Hour), To: created.Add(50 * time.Hour), Kind: "path", Value: "/p/3*", CreatedBy: "cli", CreatedAt: created}); err != nil {
		return err
	}
	if err := report("quarantined"); err != nil {
		return err
	}
	if _, err := st.RevokeQuarantine(ctx, site, q.ID); err != nil {
		return err
	}
	if err := report("revoked"); err != nil {
		return err
	}
	qs, err := st.Quarantines(ctx, site)
	add("quarantines", qs)
	return err
}

// chdbQuerier runs the storage layer's SQL on chDB, binding the arguments
// as literals (chDB has no native protocol to bind them on).
type chdbQuerier struct{ e *chdbtest.Engine }

func (q chdbQuerier) Exec(_ context.Context, query string, args ...any) error {
	sql, err := bindLiterals(query, args)
	if err != nil {
		return err
	}
	return q.e.Exec(sql)
}

func (q chdbQuerier) Query(_ context.Context, query string, args ...any) (driver.Rows, error) {
	sql, err := bindLiterals(query, args)
	if err != nil {
		return nil, err
	}
	rows, err := q.e.Query(sql)
	if err != nil {
		return nil, err
	}
	return &chdbRows{rows: rows, i: -1}, nil
}

// bindLiterals replaces each ? with its argument as a ClickHouse literal.
// The storage layer's SQL has no ? inside string literals.
func bindLiterals(query string, args []any) (string, error) {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r != '?' {
			b.WriteRune(r)
			continue
		}
		if n >= len(args) {
			return "", fmt.Errorf("bind: more placeholders than %d args in %q", len(args), query)
		}
		lit, err := literal(args[n])
		if err != nil {
			return "", err
		}
		b.WriteString(lit)
		n++
	}
	if n != len(args) {
		return "", fmt.Errorf("bind: %d args for %d placeholders", len(args), n)
	}
	return b.String(), nil
}

func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func literal(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return quote(x), nil
	case uuid.UUID:
		return "toUUID('" + x.String() + "')", nil
	case time.Time:
		return "toDateTime('" + x.UTC().Format(time.DateTime) + "', 'UTC')", nil
	case bool:
		if x {
			return "1", nil
		}
		return "0", nil
	case int:
		return strconv.Itoa(x), nil
	case uint8, uint16, uint32, uint64, int64:
		return fmt.Sprint(x), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = quote(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case []uint64:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = strconv.FormatUint(n, 10)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	return "", fmt.Errorf("bind: no literal for %T", v)
}

// chdbRows is driver.Rows over chdbtest's string rows; Scan converts to the
// destination types the storage layer uses.
type chdbRows struct {
	rows [][]string
	i    int
	err  error
}

func (r *chdbRows) Next() bool { r.i++; return r.i < len(r.rows) }
func (r *chdbRows) Err() error { return r.err }
func (r *chdbRows) Close() error {
	return nil
}
func (r *chdbRows) Columns() []string                { return nil }
func (r *chdbRows) ColumnTypes() []driver.ColumnType { return nil }
func (r *chdbRows) Totals(...any) error              { return errors.New("chdbRows: Totals unsupported") }
func (r *chdbRows) ScanStruct(any) error             { return errors.New("chdbRows: ScanStruct unsupported") }
func (r *chdbRows) HasData() bool                    { return len(r.rows) > 0 }
func (r *chdbRows) Scan(dest ...any) error {
	row := r.rows[r.i]
	if len(dest) != len(row) {
		return fmt.Errorf("chdbRows: %d destinations for %d columns", len(dest), len(row))
	}
	for i, d := range dest {
		if err := scanInto(d, row[i]); err != nil {
			return fmt.Errorf("column %d %q: %w", i, row[i], err)
		}
	}
	return nil
}

func scanInto(dest any, s string) error {
	switch d := dest.(type) {
	case *string:
		*d = s
	case *uuid.UUID:
		u, err := uuid.Parse(s)
		*d = u
		return err
	case *time.Time:
		t, err := time.ParseInLocation(time.DateTime, s, time.UTC)
		*d = t
		return err
	case *[]string:
		items, err := parseArray(s)
		*d = items
		return err
	case *float64:
		f, err := strconv.ParseFloat(s, 64)
		*d = f
		return err
	default:
		rv := reflect.ValueOf(dest)
		if rv.Kind() == reflect.Pointer {
			switch rv.Elem().Kind() {
			case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				n, err := strconv.ParseUint(s, 10, 64)
				rv.Elem().SetUint(n)
				return err
			case reflect.Int, reflect.Int64:
				n, err := strconv.ParseInt(s, 10, 64)
				rv.Elem().SetInt(n)
				return err
			}
		}
		return fmt.Errorf("chdbRows: cannot scan into %T", dest)
	}
	return nil
}

// parseArray reads ClickHouse's text form of Array(String): ['a','b\'c'].
func parseArray(s string) ([]string, error) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("not an array: %q", s)
	}
	out := []string{}
	body := s[1 : len(s)-1]
	for i := 0; i < len(body); {
		if body[i] == ',' {
			i++
			continue
		}
		if body[i] != '\'' {
			return nil, fmt.Errorf("array item not quoted at %d in %q", i, s)
		}
		var b strings.Builder
		i++
		for ; i < len(body) && body[i] != '\''; i++ {
			if body[i] == '\\' && i+1 < len(body) {
				i++
				switch body[i] {
				case 't':
					b.WriteByte('\t')
				case 'n':
					b.WriteByte('\n')
				case '0':
					b.WriteByte(0)
				default:
					b.WriteByte(body[i])
				}
				continue
			}
			b.WriteByte(body[i])
		}
		i++ // closing quote
		out = append(out, b.String())
	}
	return out, nil
}

// TestTrafficQualityChDB: the traffic-quality queries give the same answer
// on ClickHouse 26.x as TestTrafficQuality requires on 18.16.
func TestTrafficQualityChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	site, from, to := qualityFixture(t, st)
	got, err := st.TrafficQuality(context.Background(), site, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantQuality) {
		t.Fatalf("TrafficQuality on chDB =\n%+v\nwant\n%+v", got, wantQuality)
	}
}

// TestTotalsPerViewChDB: the same totals on ClickHouse 26.x.
func TestTotalsPerViewChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	checkTotals(t, st)
}

// TestRulesChDB, TestQuarantinesChDB, TestQuarantineLifecycleChDB: the
// same checks as on 18.16, on ClickHouse 26.x.
func TestRulesChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	checkRules(t, st)
}

func TestQuarantinesChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	checkQuarantines(t, st)
}

func TestQuarantineLifecycleChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	checkQuarantineLifecycle(t, st)
}
