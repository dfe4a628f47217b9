package storage_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/storage"
	"github.com/verityhq/verity/storage/chtest"
)

func TestRules(t *testing.T) { checkRules(t, chtest.Store(t)) }

// checkRules stores, lists and removes rules of two sites; run on both
// engines (see TestRulesChDB).
func checkRules(t *testing.T, st *storage.Store) {
	t.Helper()
	ctx := context.Background()
	siteA := uuid.MustParse("00000000-0000-4000-8000-0000000000d1")
	siteB := uuid.MustParse("00000000-0000-4000-8000-0000000000d2")
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	put := func(r storage.SiteRule) storage.SiteRule {
		t.Helper()
		got, err := st.PutRule(ctx, r)
		if err != nil {
			t.Fatalf("PutRule(%+v): %v", r, err)
		}
		return got
	}
	aws := put(storage.SiteRule{SiteID: siteA, Action: "deny", Kind: "asn", Value: "AS16509", Note: "  scraper on AWS ", CreatedBy: "cli", CreatedAt: t0})
	if aws.ID == uuid.Nil || aws.Value != "16509" || aws.Note != "scraper on AWS" || !aws.CreatedAt.Equal(t0) {
		t.Fatalf("PutRule returned %+v: want a new id, the value and note normalised", aws)
	}
	de := put(storage.SiteRule{SiteID: siteA, Action: "allow", Kind: "country", Value: "de", CreatedBy: "cli", CreatedAt: t0.Add(time.Minute)})
	other := put(storage.SiteRule{SiteID: siteB, Action: "deny", Kind: "ua", Value: "Python-Requests", CreatedBy: "user:x", CreatedAt: t0})

	got, err := st.Rules(ctx, siteA)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.SiteRule{aws, de}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Rules(A) =\n%+v\nwant\n%+v", got, want)
	}
	all, err := st.AllRules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []storage.SiteRule{aws, de, other}; !reflect.DeepEqual(all, want) {
		t.Fatalf("AllRules =\n%+v\nwant\n%+v", all, want)
	}
	if r := other.Rule(); r != (abuse.Rule{ID: other.ID, Action: "deny", Kind: "ua", Value: "python-requests"}) {
		t.Fatalf("Rule() = %+v", r)
	}

	// Site B cannot remove site A's rule, even knowing its id.
	if _, err := st.DeleteRule(ctx, siteB, aws.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("DeleteRule with another site: %v, want ErrNotFound", err)
	}
	removed, err := st.DeleteRule(ctx, siteA, aws.ID)
	if err != nil || removed != aws {
		t.Fatalf("DeleteRule = %+v, %v; want %+v", removed, err, aws)
	}
	if _, err := st.DeleteRule(ctx, siteA, aws.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second DeleteRule: %v, want ErrNotFound", err)
	}
	if got, err = st.Rules(ctx, siteA); err != nil || !reflect.DeepEqual(got, []storage.SiteRule{de}) {
		t.Fatalf("Rules(A) after removal = %+v, %v", got, err)
	}
	if got, err = st.Rules(ctx, uuid.New()); err != nil || len(got) != 0 {
		t.Fatalf("Rules(unknown site) = %+v, %v", got, err)
	}
}

func TestPutRuleRefusesBadRules(t *testing.T) {
	st := chtest.Store(t)
	site := uuid.New()
	for _, c := range []struct {
		rule    storage.SiteRule
		wantErr string
	}{
		{storage.SiteRule{SiteID: site, Action: "deny", Kind: "asn", Value: "amazon"}, "asn"},
		{storage.SiteRule{SiteID: site, Action: "drop", Kind: "asn", Value: "1"}, "want allow or deny"},
		{storage.SiteRule{SiteID: site, Action: "deny", Kind: "cidr", Value: "10.0.0.0/8", Note: strings.Repeat("n", 501)}, "note longer"},
		{storage.SiteRule{Action: "deny", Kind: "asn", Value: "1"}, "no site"},
	} {
		if _, err := st.PutRule(context.Background(), c.rule); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("PutRule(%+v) = %v, want an error with %q", c.rule, err, c.wantErr)
		}
	}
	if got, err := st.Rules(context.Background(), site); err != nil || len(got) != 0 {
		t.Fatalf("refused rules were stored: %+v, %v", got, err)
	}
}
