package storage_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestMigrationsRenderPerVersion(t *testing.T) {
	old, err := storage.ParseVersion("18.16.1")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := storage.ParseVersion("26.5.1.1")
	if err != nil {
		t.Fatal(err)
	}
	if got := old.DDLSettings()["allow_experimental_low_cardinality_type"]; got != 1 {
		t.Errorf("18.16 DDL settings = %v, want allow_experimental_low_cardinality_type=1", old.DDLSettings())
	}
	if len(cur.DDLSettings()) != 0 {
		t.Errorf("26.5 DDL settings = %v, want none (it rejects the experimental flag)", cur.DDLSettings())
	}
	ms, err := storage.Migrations(cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 2 {
		t.Fatalf("got %d migrations, want at least 2", len(ms))
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d: want consecutive numbers from 1", i, m.Version)
		}
		if len(m.Statements) == 0 || len(m.Checksum) != 16 {
			t.Errorf("migration %04d_%s: %d statements, checksum %q", m.Version, m.Name, len(m.Statements), m.Checksum)
		}
		for _, s := range m.Statements {
			if strings.HasSuffix(s, ";") || strings.Contains(s, "--") {
				t.Errorf("migration %04d: statement not split cleanly: %q", m.Version, s)
			}
		}
	}
	if _, err := storage.ParseVersion("banana"); err == nil {
		t.Error("ParseVersion(banana) succeeded")
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	cfg := chtest.Config(t)
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var seen []int
	applied, err := st.Migrate(ctx, func(m storage.Migration) { seen = append(seen, m.Version) })
	if err != nil {
		t.Fatal(err)
	}
	all, _ := storage.Migrations(st.Dialect())
	if len(applied) != len(all) || len(seen) != len(all) {
		t.Fatalf("first run applied %d (progress saw %v), want %d", len(applied), seen, len(all))
	}
	again, err := st.Migrate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Fatalf("second run applied %d migrations, want 0", len(again))
	}
	recorded, err := st.AppliedMigrations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var versions []int
	for _, r := range recorded {
		versions = append(versions, r.Version)
	}
	want := []int{}
	for _, m := range all {
		want = append(want, m.Version)
	}
	if !slices.Equal(versions, want) {
		t.Fatalf("recorded versions %v, want %v", versions, want)
	}
}

// A migration interrupted after some statements ran is repeated whole. With
// the record of every migration lost, all of them run again: tables exist
// (IF NOT EXISTS) and the events.asn column too, which 18.16, having no
// ADD COLUMN IF NOT EXISTS, reports as an error that Migrate must accept.
func TestMigrateRepeatsAppliedStatements(t *testing.T) {
	ctx := context.Background()
	cfg := chtest.Config(t)
	st := chtest.StoreFor(t, cfg)
	if err := st.InsertEvents(ctx, []storage.Event{{SiteID: qSite, TS: qFrom, EventID: 1, Type: "pageview", Verdict: "ok", ASN: 16509}}); err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{cfg.Addr}, Auth: clickhouse.Auth{Database: cfg.Database}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP TABLE schema_migrations"); err != nil {
		t.Fatal(err)
	}
	again, err := st.Migrate(ctx, nil)
	all, _ := storage.Migrations(st.Dialect())
	if err != nil || len(again) != len(all) {
		t.Fatalf("Migrate after losing its record: applied %d of %d, %v", len(again), len(all), err)
	}
	var asn uint32
	if err := conn.QueryRow(ctx, "SELECT asn FROM events WHERE event_id = 1").Scan(&asn); err != nil || asn != 16509 {
		t.Fatalf("stored asn = %d, %v; want 16509 kept", asn, err)
	}
}
