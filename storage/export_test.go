package storage

// NewStoreOn puts a test engine behind a Store's queries, so that the very
// same query code runs on it (see compat_chdb_test.go).
func NewStoreOn(db querier, d Dialect) *Store {
	cfg := DefaultConfig()
	return &Store{db: db, cfg: cfg, dialect: d}
}
