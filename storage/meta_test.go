package storage_test

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/verityhq/verity/storage/chtest"
)

// Metadata writes carry password and key hashes; they must go as data, not
// SQL text, so that ClickHouse's query log never holds them.
func TestSecretsStayOutOfTheQueryLog(t *testing.T) {
	cfg := chtest.Config(t)
	st := chtest.StoreFor(t, cfg)
	ctx := clickhouse.Context(context.Background(), clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
	const hash = "$argon2id$v=19$m=65536,t=3,p=2$c2VjcmV0LXNhbHQ$bm90LWluLXRoZS1sb2c"
	if _, err := st.CreateUser(ctx, "log@acme.example", "Log", hash); err != nil {
		t.Fatal(err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{cfg.Addr}, Auth: clickhouse.Auth{Database: cfg.Database}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Exec(context.Background(), "SYSTEM FLUSH LOGS"); err != nil {
		t.Fatal(err)
	}
	var logged, leaked uint64
	if err := conn.QueryRow(context.Background(),
		"SELECT count(), countIf(position(query, 'bm90LWluLXRoZS1sb2c') > 0) FROM system.query_log WHERE query LIKE '%users%'").Scan(&logged, &leaked); err != nil {
		t.Fatal(err)
	}
	if logged == 0 {
		t.Fatal("the query log recorded nothing; the test would prove nothing")
	}
	if leaked != 0 {
		t.Fatalf("the password hash appears in %d query log entries", leaked)
	}
}
