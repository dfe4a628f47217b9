// Package chtest gives integration tests a real ClickHouse: the server named
// by VERITY_TEST_CLICKHOUSE (host:port), or else one project-managed server
// per test binary, started on random loopback ports in a temporary folder on
// first use. Each Store call gets a fresh, migrated, randomly named database
// that is dropped when the test ends. Tests never skip for want of a server:
// a missing server fails them.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chserver"
)

// EnvAddr names an already running server to use instead of starting one.
const EnvAddr = "VERITY_TEST_CLICKHOUSE"

// shared is the one server of this test binary. Package state, unlike the
// rest of Verity, because a test binary's packages share one server.
var shared struct {
	once   sync.Once
	addr   string
	dir    string
	server *chserver.Server
	err    error
}

// Main runs the tests and then stops the shared server, if one was started.
// Use it as TestMain: func TestMain(m *testing.M) { chtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the shared server, if this binary started one. Main calls it;
// a TestMain that must also close other engines calls it itself.
func Stop() {
	if shared.server != nil {
		_ = shared.server.Stop()
		_ = os.RemoveAll(shared.dir)
	}
}

// Addr returns the shared server's native address, starting it if needed.
func Addr(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() {
		if addr := os.Getenv(EnvAddr); addr != "" {
			shared.addr = addr
			return
		}
		shared.dir, shared.err = os.MkdirTemp("", "verity-chtest-")
		if shared.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.server, shared.err = chserver.Start(ctx, chserver.Config{Dir: shared.dir})
		if shared.err == nil {
			shared.addr = shared.server.Addr()
		}
	})
	if shared.err != nil {
		tb.Fatalf("chtest: no ClickHouse for integration tests: %v", shared.err)
	}
	return shared.addr
}

// Config returns a storage configuration for a new, empty, randomly named
// database on the shared server (created, not migrated), dropped at cleanup.
func Config(tb testing.TB) storage.Config {
	tb.Helper()
	return ConfigFor(tb, Addr(tb))
}

// ConfigFor is Config for the server at addr.
func ConfigFor(tb testing.TB, addr string) storage.Config {
	tb.Helper()
	cfg := storage.DefaultConfig()
	cfg.Addr = addr
	cfg.Database = "verity_test_" + randomHex(6)
	ctx := context.Background()
	if err := storage.CreateDatabase(ctx, cfg); err != nil {
		tb.Fatalf("chtest: %v", err)
	}
	tb.Cleanup(func() {
		// The server may have been stopped by the test; dropping is best effort.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = storage.DropDatabase(ctx, cfg)
	})
	return cfg
}

// Store returns an open Store on a fresh, migrated database.
func Store(tb testing.TB) *storage.Store {
	tb.Helper()
	return StoreFor(tb, Config(tb))
}

// StoreFor opens and migrates a Store for cfg, closing it at cleanup.
func StoreFor(tb testing.TB, cfg storage.Config) *storage.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := storage.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("chtest: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx, nil); err != nil {
		tb.Fatalf("chtest: migrate: %v", err)
	}
	return st
}

// NewServer starts a private server for a test that stops, kills or
// restarts it; it is stopped and removed at cleanup.
func NewServer(tb testing.TB) *chserver.Server {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "clickhouse")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := chserver.Start(ctx, chserver.Config{Dir: dir})
	if err != nil {
		tb.Fatalf("chtest: %v", err)
	}
	tb.Cleanup(func() { _ = srv.Kill() })
	return srv
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("chtest: %v", err))
	}
	return hex.EncodeToString(b)
}
