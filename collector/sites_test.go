package collector

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://example.com", "https://*.example.com", "http://localhost:8082"}
	cases := []struct {
		origin string
		want   bool
	}{
		{"https://example.com", true},
		{"https://EXAMPLE.com", true},
		{"https://www.example.com", true},
		{"https://a.b.example.com", true},
		{"http://example.com", false},           // scheme differs
		{"https://example.com:8443", false},     // port differs
		{"https://evilexample.com", false},      // not a subdomain
		{"https://example.com.evil.net", false}, // suffix trick
		{"http://localhost:8082", true},
		{"http://localhost:8083", false},
		{"null", false},
		{"", false},
		{"https://user@example.com", false},
		{"https://example.com/path", false},
	}
	for _, c := range cases {
		if got := originAllowed(allowed, c.origin); got != c.want {
			t.Errorf("originAllowed(%q) = %v, want %v", c.origin, got, c.want)
		}
	}
}

type fakeSites struct {
	sites []storage.Site
	err   error
}

func (f *fakeSites) Sites(context.Context, storage.SiteFilter) ([]storage.Site, error) {
	return f.sites, f.err
}

func TestSiteCacheKeepsOldCopyOnFailure(t *testing.T) {
	a := storage.Site{ID: uuid.New(), PublicKey: "pk_a"}
	src := &fakeSites{sites: []storage.Site{a}}
	c := newSiteCache(src, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := c.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, ok := c.byPublicKey("pk_a"); !ok || s.ID != a.ID {
		t.Fatalf("byPublicKey(pk_a) = %v, %v", s, ok)
	}
	// Rotation: the old key stops working at the next refresh.
	a.PublicKey = "pk_a2"
	src.sites = []storage.Site{a}
	if err := c.refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.byPublicKey("pk_a"); ok {
		t.Fatal("old public key still accepted after refresh")
	}
	src.err = errors.New("clickhouse down")
	if err := c.refresh(context.Background()); err == nil {
		t.Fatal("refresh hid the error")
	}
	if s, ok := c.bySiteID(a.ID); !ok || s.PublicKey != "pk_a2" {
		t.Fatalf("after a failed refresh the cache lost the site: %v %v", s, ok)
	}
}
