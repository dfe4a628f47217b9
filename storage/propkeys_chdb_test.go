//go:build chdb

package storage_test

import "testing"

// TestPropKeysChDB: the same property keys on ClickHouse 26.x.
func TestPropKeysChDB(t *testing.T) {
	st, _, _ := migratedChDB(t)
	checkPropKeys(t, st)
}
