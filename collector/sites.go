package collector

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/storage"
)

// SiteSource lists sites; *storage.Store has it.
type SiteSource interface {
	Sites(ctx context.Context, f storage.SiteFilter) ([]storage.Site, error)
}

// RuleSource lists every site's allow and deny rules. A SiteSource that
// has it (*storage.Store does) has its rules applied to each site's events.
type RuleSource interface {
	AllRules(ctx context.Context) ([]storage.SiteRule, error)
}

var (
	_ SiteSource = (*storage.Store)(nil)
	_ RuleSource = (*storage.Store)(nil)
)

// siteCache holds every live site in memory, refreshed in the background,
// so the ingest path never queries ClickHouse. Key rotation and Origin
// changes take effect within one refresh interval.
type siteCache struct {
	src SiteSource
	log *slog.Logger

	mu     sync.RWMutex
	byKey  map[string]*storage.Site
	byID   map[uuid.UUID]*storage.Site
	rules  map[uuid.UUID]*abuse.RuleSet // sites without rules have none
	loaded bool
}

func newSiteCache(src SiteSource, log *slog.Logger) *siteCache {
	return &siteCache{src: src, log: log, byKey: map[string]*storage.Site{}, byID: map[uuid.UUID]*storage.Site{}}
}

// refresh replaces the cache with what ClickHouse holds now. On failure the
// old contents stay: a ClickHouse outage must not stop ingest.
func (c *siteCache) refresh(ctx context.Context) error {
	sites, err := c.src.Sites(ctx, storage.SiteFilter{})
	if err != nil {
		return err
	}
	byKey := make(map[string]*storage.Site, len(sites))
	byID := make(map[uuid.UUID]*storage.Site, len(sites))
	for i := range sites {
		s := &sites[i]
		byKey[s.PublicKey] = s
		byID[s.ID] = s
	}
	rules, err := c.loadRules(ctx)
	c.mu.Lock()
	c.byKey, c.byID, c.loaded = byKey, byID, true
	if err == nil {
		c.rules = rules
	}
	c.mu.Unlock()
	return err
}

// loadRules compiles every site's rules. A stored rule that no longer
// parses is skipped (and logged); the site's other rules still apply.
func (c *siteCache) loadRules(ctx context.Context) (map[uuid.UUID]*abuse.RuleSet, error) {
	src, ok := c.src.(RuleSource)
	if !ok {
		return nil, nil
	}
	all, err := src.AllRules(ctx)
	if err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	bySite := map[uuid.UUID][]abuse.Rule{}
	for _, r := range all {
		bySite[r.SiteID] = append(bySite[r.SiteID], r.Rule())
	}
	out := make(map[uuid.UUID]*abuse.RuleSet, len(bySite))
	for site, rules := range bySite {
		rs, err := abuse.NewRuleSet(rules)
		if err != nil {
			c.log.Warn("site rules skipped", "site", site, "err", err)
		}
		out[site] = rs
	}
	return out, nil
}

// rulesFor returns the site's compiled rules, nil when it has none.
func (c *siteCache) rulesFor(id uuid.UUID) *abuse.RuleSet {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rules[id]
}

// run refreshes every interval until ctx ends.
func (c *siteCache) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, interval)
			if err := c.refresh(rctx); err != nil {
				c.log.Warn("site cache refresh failed; serving the previous copy", "err", err)
			}
			cancel()
		}
	}
}

// byPublicKey returns the site with that public key.
func (c *siteCache) byPublicKey(key string) (*storage.Site, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.byKey[key]
	return s, ok
}

// bySiteID returns the site with that id.
func (c *siteCache) bySiteID(id uuid.UUID) (*storage.Site, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.byID[id]
	return s, ok
}

// originAllowed reports whether an Origin header value matches one of the
// site's allowed origins: exactly (scheme, host and port), or a wildcard
// "https://*.example.com", which matches subdomains at any depth but not
// example.com itself (list that separately).
func originAllowed(allowed []string, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" || u.User != nil {
		return false
	}
	scheme, host, port := u.Scheme, strings.ToLower(u.Hostname()), u.Port()
	for _, a := range allowed {
		au, err := url.Parse(a)
		if err != nil || au.Scheme != scheme || au.Port() != port {
			continue
		}
		ah := strings.ToLower(au.Hostname())
		if suffix, ok := strings.CutPrefix(ah, "*."); ok {
			if strings.HasSuffix(host, "."+suffix) {
				return true
			}
			continue
		}
		if ah == host {
			return true
		}
	}
	return false
}
