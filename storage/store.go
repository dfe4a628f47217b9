package storage

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// querier is the part of a ClickHouse connection the queries use. The
// production value is a clickhouse-go connection; the compatibility test
// puts an in-process ClickHouse 26.x (chDB) behind it to run the very same
// SQL on both engines.
type querier interface {
	Query(ctx context.Context, query string, args ...any) (driver.Rows, error)
	Exec(ctx context.Context, query string, args ...any) error
}

// Store is Verity's handle on ClickHouse.
type Store struct {
	conn    driver.Conn // nil when db is a test engine
	db      querier
	cfg     Config
	dialect Dialect
}

// Open connects to the database cfg names (which must exist: see
// CreateDatabase) and checks that the server is supported.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	conn, err := dial(ctx, cfg, cfg.Database)
	if err != nil {
		return nil, err
	}
	sv, err := conn.ServerVersion()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("storage: server version: %w", err)
	}
	d := Dialect{Major: int(sv.Version.Major), Minor: int(sv.Version.Minor)}
	if !d.AtLeast(MinSupported.Major, MinSupported.Minor) {
		conn.Close()
		return nil, fmt.Errorf("storage: %s is older than the oldest supported, %s", d, MinSupported)
	}
	return &Store{conn: conn, db: conn, cfg: cfg, dialect: d}, nil
}

// CreateDatabase creates cfg.Database if it does not exist.
func CreateDatabase(ctx context.Context, cfg Config) error {
	return databaseDDL(ctx, cfg, "CREATE DATABASE IF NOT EXISTS ")
}

// DropDatabase removes cfg.Database and everything in it. Tests use it.
func DropDatabase(ctx context.Context, cfg Config) error {
	return databaseDDL(ctx, cfg, "DROP DATABASE IF EXISTS ")
}

// databaseDDL runs a statement about cfg.Database itself. It connects
// without selecting a database, since the handshake fails for a missing
// one. Identifiers cannot be bound, so the name must pass isIdentifier
// (Config.Validate checks it too).
func databaseDDL(ctx context.Context, cfg Config, stmt string) error {
	if !isIdentifier(cfg.Database) {
		return fmt.Errorf("storage: invalid database name %q", cfg.Database)
	}
	conn, err := dial(ctx, cfg, "")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, stmt+cfg.Database); err != nil {
		return fmt.Errorf("storage: %s%s: %w", strings.ToLower(stmt), cfg.Database, err)
	}
	return nil
}

func dial(ctx context.Context, cfg Config, database string) (driver.Conn, error) {
	password := cfg.Password
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("storage: read clickhouse.password_file: %w", err)
		}
		password = strings.TrimSpace(string(b))
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:         []string{cfg.Addr},
		Auth:         clickhouse.Auth{Database: database, Username: cfg.Username, Password: password},
		DialTimeout:  cfg.DialTimeout,
		MaxOpenConns: cfg.MaxOpenConns,
		MaxIdleConns: cfg.MaxOpenConns,
		Compression:  &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
	})
	if err != nil {
		return nil, fmt.Errorf("storage: connect to %s: %w", cfg.Addr, err)
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("storage: connect to ClickHouse at %s: %w", cfg.Addr, err)
	}
	return conn, nil
}

// Dialect is the server's version, as the SQL depends on it.
func (s *Store) Dialect() Dialect { return s.dialect }

// Ping checks that ClickHouse answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.conn == nil {
		return nil
	}
	return s.conn.Ping(ctx)
}

// Close closes the connection pool.
func (s *Store) Close() error {
	if s.conn == nil {
		return nil
	}
	return s.conn.Close()
}

// queryCtx bounds a query by the configured timeout.
func (s *Store) queryCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.QueryTimeout)
}

// insertRows writes n rows; row(i) returns the values of row i in the order
// of columns. Over the native protocol the rows go as one data block through
// clickhouse-go's batch API, so no value (password and key hashes among them)
// is ever part of the SQL text that ClickHouse keeps in system.query_log. A
// test engine without the native protocol gets INSERT ... SELECT row by row.
func (s *Store) insertRows(ctx context.Context, table, columns string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	if s.conn == nil {
		for i := range n {
			vals := row(i)
			if err := s.db.Exec(ctx, insertSelect(table, columns, len(vals)), vals...); err != nil {
				return fmt.Errorf("storage: insert into %s: %w", table, err)
			}
		}
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+table+" ("+columns+")", driver.WithReleaseConnection())
	if err != nil {
		return fmt.Errorf("storage: insert into %s: %w", table, err)
	}
	for i := range n {
		if err := batch.Append(row(i)...); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("storage: insert into %s: %w", table, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("storage: insert into %s: %w", table, err)
	}
	return nil
}

// insertRow writes one row; see insertRows.
func (s *Store) insertRow(ctx context.Context, table, columns string, values ...any) error {
	return s.insertRows(ctx, table, columns, 1, func(int) []any { return values })
}

// insertSelect renders "INSERT INTO table (columns) SELECT ?, ?, ..." for one
// row of bound values. Not "VALUES (?, ...)": over the native protocol
// ClickHouse 18.16 answers an INSERT with inline VALUES by waiting for data
// blocks, and the query hangs; INSERT ... SELECT works on every version.
func insertSelect(table, columns string, n int) string {
	return "INSERT INTO " + table + " (" + columns + ") SELECT ?" + strings.Repeat(", ?", n-1)
}
