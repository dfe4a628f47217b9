//go:build chdb

package storage_test

import "testing"

// TestSiteUsageChDB: the usage queries give the same counts on ClickHouse
// 26.x as TestSiteUsage requires on 18.16.
func TestSiteUsageChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	checkUsage(t, st)
}
