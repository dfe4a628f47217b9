//go:build chdb

// Package libcheck turns a missing libchdb.so into a clear error message.
//
// github.com/chdb-io/chdb-go loads libchdb.so in its package init and panics
// (with a bare dlopen error) when it cannot, before any test or TestMain runs,
// so chdbtest.Open never gets the chance to fail the test nicely. This package
// is imported by chdbtest and checks CHDB_LIB_PATH first; when it is unset or
// does not point at a readable file it prints how to fix that and exits with
// status 1, so the test binary fails (never skips).
//
// It runs first because of the Go initialization order (Go spec, "Package
// initialization", Go >= 1.21): among packages whose imports are initialized,
// the one with the lexically smallest import path goes next. This package
// imports only syscall, which chdb-go's loader package also (transitively)
// needs, and its path sorts before "os", which the loader needs too, so it is
// initialized before "os" and therefore before chdb-go. Keep its imports to
// syscall only.
package libcheck

import "syscall"

const hint = "The chdb-tagged tests run an in-process ClickHouse 26.x engine from libchdb.so.\n" +
	"Fetch it once with `bash .ci/fetch-chdb.sh` (from the repo root; it prints the\n" +
	"library's path) and run the tests with CHDB_LIB_PATH=<that path>; `make test`\n" +
	"does both.\n"

func init() {
	path, _ := syscall.Getenv("CHDB_LIB_PATH")
	var problem string
	if path == "" {
		problem = "CHDB_LIB_PATH is not set"
	} else if fd, err := syscall.Open(path, syscall.O_RDONLY, 0); err != nil {
		problem = "CHDB_LIB_PATH=" + path + ": " + err.Error()
	} else {
		// Reading also rejects directories (EISDIR) and empty files.
		var b [4]byte
		if n, err := syscall.Read(fd, b[:]); err != nil {
			problem = "CHDB_LIB_PATH=" + path + ": " + err.Error()
		} else if n == 0 {
			problem = "CHDB_LIB_PATH=" + path + " is empty"
		}
		_ = syscall.Close(fd)
	}
	if problem == "" {
		return
	}
	_, _ = syscall.Write(syscall.Stderr, []byte("chdbtest: "+problem+".\n"+hint))
	syscall.Exit(1)
}
