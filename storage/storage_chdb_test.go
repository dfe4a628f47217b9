//go:build chdb

package storage_test

import (
	"os"
	"testing"

	"github.com/verityhq/verity/storage/chdbtest"
	"github.com/verityhq/verity/storage/chtest"
)

// With the chdb tag the binary also holds a chDB session, which must be
// closed before exit (see chdbtest.Main).
func TestMain(m *testing.M) {
	code := chdbtest.Main(m)
	chtest.Stop()
	os.Exit(code)
}
