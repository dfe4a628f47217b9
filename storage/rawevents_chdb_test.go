//go:build chdb

package storage_test

import "testing"

// TestRawEventsChDB: the export reads the same rows on ClickHouse 26.x.
func TestRawEventsChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	checkRawEvents(t, st)
}
