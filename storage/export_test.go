package storage

import (
	"context"
	"fmt"
	"reflect"
)

// NewStoreOn puts a test engine behind a Store's queries, so that the very
// same query code runs on it (see compat_chdb_test.go).
func NewStoreOn(db querier, d Dialect) *Store {
	cfg := DefaultConfig()
	return &Store{db: db, cfg: cfg, dialect: d}
}

// StoredEventRow reads back the events row with eventID, every column in
// eventColumns order, and gives it with what the row-by-row insert would
// have sent for e.
func StoredEventRow(s *Store, e *Event) (stored, sent []any, err error) {
	sent = eventValues(e)
	stored = make([]any, len(sent))
	ptrs := make([]any, len(sent))
	for i, v := range sent {
		ptrs[i] = reflect.New(reflect.TypeOf(v)).Interface()
	}
	r, err := s.conn.Query(context.Background(), "SELECT "+eventColumns+" FROM events WHERE event_id = ?", e.EventID)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	if !r.Next() {
		return nil, nil, fmt.Errorf("no row with event_id %d", e.EventID)
	}
	if err := r.Scan(ptrs...); err != nil {
		return nil, nil, err
	}
	for i, p := range ptrs {
		stored[i] = reflect.ValueOf(p).Elem().Interface()
	}
	return stored, sent, r.Err()
}
