//go:build chdb

// Package chdbtest gives tests an in-process ClickHouse 26.x engine (chDB),
// so that migrations and dashboard queries, which must run on Debian's
// ClickHouse 18.16 server, are also checked against a current ClickHouse.
//
// It is test-only and exists only under the `chdb` build tag (`make test`
// sets it): github.com/chdb-io/chdb-go dlopens libchdb.so in its package init
// and panics when the library is missing, so no normal build may import it.
// The library comes from `bash .ci/fetch-chdb.sh`, which prints its path;
// chdb-go loads the file named by the CHDB_LIB_PATH environment variable.
// When that variable is unset or names no readable file the test binary
// prints how to fix it and exits with status 1 (see internal/libcheck):
// the tests fail, they are never skipped.
//
// # One engine per process, one database per Open
//
// chDB allows only one open session per process: opening a second one while
// the first is open fails (chdb-go's NewSession even silently hands back the
// first session), and closing and reopening leaks about five threads and a
// few MB each time. So the first Open starts a single session that lives
// until Main closes it after the tests, in a directory named chdbtest-<pid>-*
// under os.TempDir() (removed by Main, or by a later Open if the process
// died), and every Open creates a fresh database for its caller, dropped
// again at tb.Cleanup. Each Engine runs its statements with its own database
// as the current one, so unqualified table names are private to the Engine,
// even when tests run in parallel; explicitly named databases are shared by
// all Engines in the process, so give them unique names (for example derived
// from Database()). Session state is shared too: prefer a query's SETTINGS
// clause to SET. Do not use chdb-go directly in the same process.
//
// Statements are serialized: one Engine method call runs at a time per
// process.
//
// chDB 26.5 quirk: DROP TABLE / DROP DATABASE ... SYNC never returns (for a
// database, unless it is empty), so do not use SYNC; plain DROP is fine.
//
// Every test package that calls Open must run its tests through Main:
//
//	func TestMain(m *testing.M) { chdbtest.Main(m) }
//
// Main closes the engine after the tests. Without that, a -race test binary
// (make test uses -race) runs libchdb's exit-time destructors with the
// session still open, which hangs for minutes and then segfaults; so Open
// fails the test when Main is not running.
package chdbtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/chdb-io/chdb-go/chdb"

	// Must stay imported: it reports a missing CHDB_LIB_PATH before chdb-go's
	// init panics on it.
	_ "github.com/verityhq/verity/storage/chdbtest/internal/libcheck"
)

// Engine is one test's view of the process-wide chDB engine: its own
// database, which is the current database for all its statements.
type Engine struct {
	db string
}

const (
	dirPrefix = "chdbtest-"
	fetchHint = "run `bash .ci/fetch-chdb.sh` from the repo root and set CHDB_LIB_PATH to the path it prints (`make test` does both)"
)

var (
	shared struct {
		once sync.Once
		err  error
		dir  string

		mu   sync.Mutex // guards sess: chDB runs one statement at a time
		sess *chdb.Session
	}
	dbSeq       atomic.Uint64
	mainRunning atomic.Bool // set while Main runs the tests
)

// Open returns an Engine with a fresh, empty database of its own (see
// Database) on the process-wide chDB engine, starting that engine on first
// use. The database is dropped at tb.Cleanup. Open fails the test with
// tb.Fatal when CHDB_LIB_PATH is unset or the library is missing, or when the
// engine cannot start.
func Open(tb testing.TB) *Engine {
	tb.Helper()
	lib := os.Getenv("CHDB_LIB_PATH")
	if lib == "" {
		tb.Fatal("chdbtest: CHDB_LIB_PATH is not set; " + fetchHint)
	}
	if st, err := os.Stat(lib); err != nil {
		tb.Fatalf("chdbtest: CHDB_LIB_PATH: %v; %s", err, fetchHint)
	} else if !st.Mode().IsRegular() {
		tb.Fatalf("chdbtest: CHDB_LIB_PATH=%s is not a file; %s", lib, fetchHint)
	}

	if !mainRunning.Load() {
		tb.Fatal("chdbtest: Open needs the tests to run through chdbtest.Main; add\n" +
			"\tfunc TestMain(m *testing.M) { chdbtest.Main(m) }\n" +
			"to the package (it closes chDB before exit; -race test binaries hang at exit otherwise)")
	}
	shared.once.Do(start)
	if shared.err != nil {
		tb.Fatalf("chdbtest: starting chDB (CHDB_LIB_PATH=%s): %v", lib, shared.err)
	}

	e := &Engine{db: databaseName(dbSeq.Add(1), tb.Name())}
	if _, err := run("", "CREATE DATABASE "+quoteIdent(e.db), "TabSeparated"); err != nil {
		tb.Fatalf("chdbtest: creating database %s: %v", e.db, err)
	}
	tb.Cleanup(func() {
		// Not SYNC: in chDB 26.5 DROP ... SYNC of a non-empty database or of
		// a table never returns.
		if _, err := run("", "DROP DATABASE IF EXISTS "+quoteIdent(e.db), "TabSeparated"); err != nil {
			tb.Logf("chdbtest: dropping database %s: %v", e.db, err)
		}
	})
	return e
}

// Database returns the name of the Engine's own database, the current
// database for its statements.
func (e *Engine) Database() string { return e.db }

// Exec runs a statement that has no result to check: DDL, INSERT ... VALUES,
// SYSTEM ..., and so on. Several statements separated by semicolons are run
// in order, up to the first that fails. Any output is discarded.
func (e *Engine) Exec(query string) error {
	_, err := run(e.db, query, "TabSeparated")
	return err
}

// Query runs one SELECT (or any single statement with a result, without a
// FORMAT clause) and returns its rows in the engine's output order, one
// string per column.
//
// Each cell is ClickHouse's text form of the value, as toString would give
// it: strings (String, FixedString, Enum, LowCardinality, Nullable) byte for
// byte, unescaped, with FixedString's zero padding; numbers, dates and UUIDs
// in their usual form; Array, Map and Tuple values as in a query literal,
// e.g. ['a\tb','it\'s'] with the escapes kept. NULL is `\N`, which is also
// what a string holding a backslash and an N looks like: use isNull in the
// query where that matters. (ClickHouse 26.x-only types such as Variant,
// Dynamic and JSON are not supported.) A statement without a result gives no
// rows.
func (e *Engine) Query(query string) ([][]string, error) {
	out, err := run(e.db, query, "TabSeparatedWithNamesAndTypes")
	if err != nil {
		return nil, err
	}
	return parseTSVWithNamesAndTypes(out)
}

// Version returns the engine's version(), e.g. "26.5.1.1".
func (e *Engine) Version() (string, error) {
	rows, err := e.Query("SELECT version()")
	if err != nil {
		return "", err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return "", fmt.Errorf("chdbtest: SELECT version() returned %q", rows)
	}
	return rows[0][0], nil
}

// Main runs the package's tests (m.Run), then closes the engine and removes
// its directory, and returns m.Run's exit code. Call it from TestMain; when
// TestMain returns, the test binary exits with that code:
//
//	func TestMain(m *testing.M) { chdbtest.Main(m) }
//
// Open fails outside Main: before it starts or after m.Run has returned.
func Main(m *testing.M) int {
	mainRunning.Store(true)
	code := m.Run()
	mainRunning.Store(false)
	shutdown()
	return code
}

func shutdown() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.sess == nil {
		return
	}
	shared.sess.Close()
	shared.sess = nil
	_ = os.RemoveAll(shared.dir)
}

// start opens the process-wide session; it runs once, under shared.once.
func start() {
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		shared.err = err
		return
	}
	sess, err := chdb.NewSession(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		shared.err = err
		return
	}
	shared.dir, shared.sess = dir, sess
}

// run executes query with db as the current database (unless db is empty)
// and returns a copy of the output in the given format.
func run(db, query, format string) ([]byte, error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if db != "" {
		if _, err := runLocked("USE "+quoteIdent(db), "TabSeparated"); err != nil {
			return nil, err
		}
	}
	return runLocked(query, format)
}

func runLocked(query, format string) ([]byte, error) {
	if shared.sess == nil {
		return nil, errors.New("chdbtest: the engine is closed (Main has returned)")
	}
	res, err := shared.sess.Query(query, format)
	if err != nil {
		// chDB keeps the output produced before a failure (by earlier
		// statements of a multi-statement query, or by the failing one
		// before it threw) and prepends it to the next query's output.
		// Run a throwaway query to take it.
		if r, err := shared.sess.Query("SELECT 1", "TabSeparated"); err == nil {
			r.Free()
		}
		return nil, fmt.Errorf("chdb: %w", err)
	}
	defer res.Free()
	return bytes.Clone(res.Buf()), nil // Buf points into C memory that Free releases
}

// databaseName makes a unique, readable database name for a test.
func databaseName(seq uint64, testName string) string {
	var b strings.Builder
	b.WriteString("t")
	b.WriteString(strconv.FormatUint(seq, 10))
	b.WriteByte('_')
	for _, r := range testName {
		if b.Len() >= 60 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(name, `\`, `\\`), "`", "\\`") + "`"
}

// removeStaleDirs removes session directories left behind by test processes
// that no longer exist (the session is never closed, so its process cannot
// remove its directory).
func removeStaleDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*-*"))
	for _, dir := range matches {
		rest := strings.TrimPrefix(filepath.Base(dir), dirPrefix)
		pid, err := strconv.Atoi(rest[:strings.IndexByte(rest, '-')])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if p, err := os.FindProcess(pid); err == nil {
			if err := p.Signal(syscall.Signal(0)); !errors.Is(err, os.ErrProcessDone) {
				continue // alive, not ours to judge (EPERM), or unknown
			}
		}
		_ = os.RemoveAll(dir)
	}
}
