//go:build chdb

package storage_test

import "testing"

// TestStatsChDB: the statistics give the same exact answers on ClickHouse
// 26.x as TestStats requires on 18.16.
func TestStatsChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	checkStats(t, st)
}
