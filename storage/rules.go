package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
)

// SiteRule is a stored per-site rule that overrides the scorer (see
// abuse.Rule): allow or deny events by network, ASN, country, User-Agent
// substring or page path.
type SiteRule struct {
	SiteID    uuid.UUID
	ID        uuid.UUID
	Action    string // abuse.RuleAllow or abuse.RuleDeny
	Kind      string // abuse.RuleCIDR, RuleASN, RuleCountry, RuleUA or RulePath
	Value     string // as abuse.ParseRule normalised it
	Note      string
	CreatedBy string // the actor, as in the audit log
	CreatedAt time.Time
}

// Rule is the rule in the form abuse.NewRuleSet compiles.
func (r SiteRule) Rule() abuse.Rule {
	return abuse.Rule{ID: r.ID, Action: r.Action, Kind: r.Kind, Value: r.Value, Note: r.Note}
}

// maxNote bounds the free text kept with a rule or quarantine.
const maxNote = 500

// PutRule checks r with abuse.ParseRule and stores it with its value
// normalised; a zero ID gets a new one, a zero CreatedAt the current time.
// It returns the rule as stored.
func (s *Store) PutRule(ctx context.Context, r SiteRule) (SiteRule, error) {
	if r.SiteID == uuid.Nil {
		return SiteRule{}, fmt.Errorf("storage: put rule: no site")
	}
	parsed, err := abuse.ParseRule(r.Action, r.Kind, r.Value)
	if err != nil {
		return SiteRule{}, fmt.Errorf("storage: put rule: %w", err)
	}
	r.Value = parsed.Value
	if r.Note, err = checkNote(r.Note); err != nil {
		return SiteRule{}, fmt.Errorf("storage: put rule: %w", err)
	}
	if r.ID == uuid.Nil {
		r.ID = uuid.New()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	r.CreatedAt = r.CreatedAt.UTC().Truncate(time.Second)
	if err := s.insertRule(ctx, r, false); err != nil {
		return SiteRule{}, err
	}
	return r, nil
}

func (s *Store) insertRule(ctx context.Context, r SiteRule, deleted bool) error {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "site_rules", "site_id, rule_id, action, kind, value, note, created_by, created_at, deleted, version",
		r.SiteID, r.ID, r.Action, r.Kind, r.Value, r.Note, r.CreatedBy, r.CreatedAt, b2u(deleted), version())
	if err != nil {
		return fmt.Errorf("storage: put rule: %w", err)
	}
	return nil
}

// checkNote trims a note and refuses one that is too long.
func checkNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	if len(note) > maxNote {
		return "", fmt.Errorf("note longer than %d bytes", maxNote)
	}
	return note, nil
}

// Rules lists a site's rules, oldest first (a rule is never edited, so its
// version orders rules created in the same second).
func (s *Store) Rules(ctx context.Context, siteID uuid.UUID) ([]SiteRule, error) {
	return s.rules(ctx, "AND site_id = ?", siteID)
}

// AllRules lists every site's rules, by site and then oldest first: what a
// collector loads to refresh its rule sets in one query.
func (s *Store) AllRules(ctx context.Context) ([]SiteRule, error) {
	return s.rules(ctx, "")
}

// DeleteRule removes one of a site's rules and returns it; ErrNotFound when
// the site has no such rule (or it was removed already).
func (s *Store) DeleteRule(ctx context.Context, siteID, ruleID uuid.UUID) (SiteRule, error) {
	rs, err := s.rules(ctx, "AND site_id = ? AND rule_id = ?", siteID, ruleID)
	if err != nil {
		return SiteRule{}, err
	}
	if len(rs) == 0 {
		return SiteRule{}, ErrNotFound
	}
	if err := s.insertRule(ctx, rs[0], true); err != nil {
		return SiteRule{}, err
	}
	return rs[0], nil
}

func (s *Store) rules(ctx context.Context, where string, args ...any) ([]SiteRule, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, `SELECT site_id, rule_id, action, kind, value, note, created_by, created_at
		FROM site_rules FINAL WHERE deleted = 0 `+where+` ORDER BY site_id, created_at, version, rule_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: list rules: %w", err)
	}
	defer rows.Close()
	var out []SiteRule
	for rows.Next() {
		var r SiteRule
		if err := rows.Scan(&r.SiteID, &r.ID, &r.Action, &r.Kind, &r.Value, &r.Note, &r.CreatedBy, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("storage: list rules: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
