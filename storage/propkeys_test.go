package storage_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestPropKeys(t *testing.T) { checkPropKeys(t, chtest.Store(t)) }

// checkPropKeys: the property names of the statistics fixture's custom
// events, by view and filter (the other site's never count).
func checkPropKeys(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	if err := st.InsertEvents(ctx, statsEvents()); err != nil {
		t.Fatal(err)
	}
	all := statsQuery()
	all.View = storage.ViewAll
	for _, c := range []struct {
		name string
		q    storage.Query
		want []storage.PropKey
	}{
		{"human", statsQuery(), []storage.PropKey{{"plan", 2}, {"file", 1}}},
		{"all", all, []storage.PropKey{{"plan", 3}, {"file", 1}}},
		{"one event", statsQuery("event:signup"), []storage.PropKey{{"plan", 2}}},
		{"one value", statsQuery("prop:plan=pro"), []storage.PropKey{{"plan", 1}}},
		{"no match", statsQuery("country:XX"), []storage.PropKey{}},
	} {
		got, err := st.PropKeys(ctx, c.q, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if _, err := st.PropKeys(ctx, storage.Query{From: statsFrom, To: statsTo}, 0); err == nil {
		t.Error("property keys without a site")
	}
}
