package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered schema change, rendered for a server version.
type Migration struct {
	Version    int
	Name       string
	Checksum   string   // of the source file, so an edited migration is noticed
	Statements []string // rendered, one SQL statement each, in order
}

// Migrations renders every embedded migration for d, in order.
func Migrations(d Dialect) ([]Migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		src, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		base := strings.TrimSuffix(path.Base(name), ".sql")
		num, label, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("storage: migration file %s: want NNNN_name.sql", name)
		}
		if len(out) > 0 && out[len(out)-1].Version == version {
			return nil, fmt.Errorf("storage: two migrations numbered %d", version)
		}
		t, err := template.New(base).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("storage: migration %s: %w", base, err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, d); err != nil {
			return nil, fmt.Errorf("storage: render migration %s: %w", base, err)
		}
		sum := sha256.Sum256(src)
		out = append(out, Migration{
			Version:    version,
			Name:       label,
			Checksum:   hex.EncodeToString(sum[:8]),
			Statements: splitStatements(buf.String()),
		})
	}
	return out, nil
}

// splitStatements splits a migration at lines ending in ';' and drops
// comment-only lines. Migration files are ours, so this need not be a full
// SQL lexer: a statement must not contain a line ending in ';' inside a string.
func splitStatements(sql string) []string {
	var stmts []string
	var cur strings.Builder
	for line := range strings.SplitSeq(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			stmts = append(stmts, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    UInt32,
    name       String,
    checksum   String,
    applied_at DateTime('UTC')
) ENGINE = MergeTree
ORDER BY version`

// AppliedMigration is a row of schema_migrations.
type AppliedMigration struct {
	Version   int
	Name      string
	AppliedAt time.Time
}

// Migrate applies every migration the database has not recorded, in order,
// and returns the ones it applied. It is idempotent: statements are
// CREATE ... IF NOT EXISTS or add columns (see columnExists), so a run that
// failed half-way can be repeated. progress, when not nil, is told about
// each migration before it runs.
func (s *Store) Migrate(ctx context.Context, progress func(m Migration)) ([]Migration, error) {
	all, err := Migrations(s.dialect)
	if err != nil {
		return nil, err
	}
	ddl := clickhouse.Context(ctx, clickhouse.WithSettings(s.dialect.DDLSettings()))
	if err := s.conn.Exec(ddl, migrationsTable); err != nil {
		return nil, fmt.Errorf("storage: create schema_migrations: %w", err)
	}
	applied, err := s.appliedChecksums(ctx)
	if err != nil {
		return nil, err
	}
	var done []Migration
	for _, m := range all {
		if sum, ok := applied[m.Version]; ok {
			if sum != m.Checksum {
				return done, fmt.Errorf("storage: migration %04d_%s was changed after it was applied (checksum %s, recorded %s): add a new migration instead", m.Version, m.Name, m.Checksum, sum)
			}
			continue
		}
		if progress != nil {
			progress(m)
		}
		for i, stmt := range m.Statements {
			if err := s.conn.Exec(ddl, stmt); err != nil && !columnExists(err) {
				return done, fmt.Errorf("storage: migration %04d_%s statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := s.insertRow(ctx, "schema_migrations", "version, name, checksum, applied_at",
			uint32(m.Version), m.Name, m.Checksum, time.Now().UTC()); err != nil {
			return done, fmt.Errorf("storage: record migration %04d: %w", m.Version, err)
		}
		done = append(done, m)
	}
	return done, nil
}

// columnExists reports whether err is the server refusing to add a column
// that is there already. On 18.16, which has no ADD COLUMN IF NOT EXISTS,
// that is how a migration repeated after a half-way failure finds the
// column it added the first time; the column's type is the migration's.
func columnExists(err error) bool {
	var ex *clickhouse.Exception
	// 44 ILLEGAL_COLUMN on 18.16, 15 DUPLICATE_COLUMN on later servers.
	return errors.As(err, &ex) && (ex.Code == 44 || ex.Code == 15) && strings.Contains(ex.Message, "already exists")
}

func (s *Store) appliedChecksums(ctx context.Context) (map[int]string, error) {
	rows, err := s.conn.Query(ctx, "SELECT version, any(checksum) FROM schema_migrations GROUP BY version")
	if err != nil {
		return nil, fmt.Errorf("storage: read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, fmt.Errorf("storage: read schema_migrations: %w", err)
		}
		out[int(v)] = sum
	}
	return out, rows.Err()
}

// AppliedMigrations lists what the database has recorded, oldest first.
func (s *Store) AppliedMigrations(ctx context.Context) ([]AppliedMigration, error) {
	rows, err := s.conn.Query(ctx, "SELECT version, any(name), min(applied_at) FROM schema_migrations GROUP BY version ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("storage: read schema_migrations: %w", err)
	}
	defer rows.Close()
	var out []AppliedMigration
	for rows.Next() {
		var v uint32
		var m AppliedMigration
		if err := rows.Scan(&v, &m.Name, &m.AppliedAt); err != nil {
			return nil, fmt.Errorf("storage: read schema_migrations: %w", err)
		}
		m.Version = int(v)
		out = append(out, m)
	}
	return out, rows.Err()
}
