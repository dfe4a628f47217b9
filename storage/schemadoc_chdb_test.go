//go:build chdb

package storage_test

import (
	"context"
	"testing"
)

// TestSchemaDocExampleQueriesChDB is TestSchemaDocExampleQueries on
// ClickHouse 26.x (chDB): the documented queries must give the same answers
// there.
func TestSchemaDocExampleQueriesChDB(t *testing.T) {
	queries := readDocQueries(t)
	st, eng, version := migratedChDB(t)
	t.Logf("engine %s", version)
	checkDocQueries(t, queries, st, func(_ context.Context, query string) ([][]string, error) {
		rows, err := eng.Query(query)
		return append([][]string{nil}, rows...), err
	})
}
