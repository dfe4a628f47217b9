//go:build chdb

package storage_test

import (
	"slices"
	"testing"
	"time"
)

// The account queries give the same answers on ClickHouse 26.x (chDB) as
// TestAccounts requires on 18.16.
func TestAccountsOnChDB(t *testing.T) {
	st, _, version := migratedChDB(t)
	out, err := exerciseAccounts(st, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatalf("on %s: %v", version, err)
	}
	if !slices.Equal(out, wantAccounts) {
		t.Errorf("on %s:\n got %q\nwant %q", version, out, wantAccounts)
	}
}
