package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
)

// QuarantineKind names the stored event column a quarantine matches. Only
// what events keep can be matched after the fact: there is no client
// address to match a network on, since raw IPs are never stored.
type QuarantineKind string

// Quarantine kinds.
const (
	QuarantineASN            QuarantineKind = "asn"             // events.asn, e.g. 16509 or AS16509
	QuarantineCountry        QuarantineKind = "country"         // events.country, ISO 3166-1 alpha-2
	QuarantinePath           QuarantineKind = "path"            // events.pathname: exact, or a prefix ending in '*'
	QuarantineSource         QuarantineKind = "source"          // events.source as stored ("Google"), any case
	QuarantineReferrerDomain QuarantineKind = "referrer_domain" // the host of events.referrer, or any subdomain of it
	QuarantineBrowser        QuarantineKind = "browser"         // events.browser ("Chrome"), any case
	QuarantineUTMSource      QuarantineKind = "utm_source"      // events.utm_source, any case
)

// QuarantineKinds lists the kinds, in the order help texts show them.
var QuarantineKinds = []QuarantineKind{QuarantineASN, QuarantineCountry, QuarantinePath, QuarantineSource,
	QuarantineReferrerDomain, QuarantineBrowser, QuarantineUTMSource}

// ReasonQuarantine is the reason code TrafficQuality reports for events
// that a quarantine made invalid (class abuse.ClassActivityList).
const ReasonQuarantine = "quarantine"

// ErrRevoked is returned when revoking a quarantine that already was.
var ErrRevoked = errors.New("storage: already revoked")

// Quarantine marks one site's events in a time window that match one value
// of one column as invalid, after the fact. Stored events are never changed:
// every count applies the quarantines that are not revoked, so revoking one
// restores the numbers.
type Quarantine struct {
	SiteID    uuid.UUID
	ID        uuid.UUID
	From, To  time.Time // events with From <= ts < To; UTC, whole seconds
	Kind      QuarantineKind
	Value     string // normalised by ParseQuarantineMatch
	Note      string
	CreatedBy string // the actor, as in the audit log
	CreatedAt time.Time
	Revoked   bool
}

// maxQuarantineValue bounds a value (a path is at most 2 KiB when stored).
const maxQuarantineValue = 2048

// ParseQuarantineMatch checks a kind and normalises its value: ASNs,
// countries and paths as for rules (abuse.ParseASN, ParseCountry,
// ParsePathPattern); a referrer domain is a lower-case host name; source,
// browser and utm_source values are trimmed and matched ignoring case.
func ParseQuarantineMatch(kind, value string) (QuarantineKind, string, error) {
	k := QuarantineKind(kind)
	if len(value) > maxQuarantineValue {
		return "", "", fmt.Errorf("quarantine value: longer than %d bytes", maxQuarantineValue)
	}
	switch k {
	case QuarantineASN:
		n, err := abuse.ParseASN(value)
		return k, strconv.FormatUint(uint64(n), 10), err
	case QuarantineCountry:
		c, err := abuse.ParseCountry(value)
		return k, c, err
	case QuarantinePath:
		p, err := abuse.ParsePathPattern(value)
		return k, p, err
	case QuarantineReferrerDomain:
		d, err := parseHost(value)
		return k, d, err
	case QuarantineSource, QuarantineBrowser, QuarantineUTMSource:
		v := strings.TrimSpace(value)
		if v == "" || strings.ContainsFunc(v, unicode.IsControl) {
			return "", "", fmt.Errorf("%s %q: want a non-empty value without control characters", kind, value)
		}
		return k, v, nil
	}
	names := make([]string, len(QuarantineKinds))
	for i, q := range QuarantineKinds {
		names[i] = string(q)
	}
	return "", "", fmt.Errorf("quarantine kind %q: want one of %s", kind, strings.Join(names, ", "))
}

// parseHost reads a host name as the referrer column holds it: lower-case
// letters, digits, '-' and '_' in dot-separated labels.
func parseHost(s string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	ok := h != "" && len(h) <= 253 && !strings.HasPrefix(h, ".") && !strings.HasSuffix(h, ".") && !strings.Contains(h, "..")
	for i := 0; ok && i < len(h); i++ {
		c := h[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
	}
	if !ok {
		return "", fmt.Errorf("referrer_domain %q: want a host name such as news.example.com (no scheme, no path)", s)
	}
	return h, nil
}

// PutQuarantine checks q and stores it; a zero ID gets a new one, a zero
// CreatedAt the current time. From and To are truncated to the second. It
// returns the quarantine as stored.
func (s *Store) PutQuarantine(ctx context.Context, q Quarantine) (Quarantine, error) {
	kind, value, err := ParseQuarantineMatch(string(q.Kind), q.Value)
	if err == nil && q.SiteID == uuid.Nil {
		err = errors.New("no site")
	}
	q.From, q.To = q.From.UTC().Truncate(time.Second), q.To.UTC().Truncate(time.Second)
	if err == nil && (q.From.IsZero() || !q.From.Before(q.To)) {
		err = fmt.Errorf("window %s to %s: want a start before the end", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339))
	}
	if err == nil {
		q.Note, err = checkNote(q.Note)
	}
	if err != nil {
		return Quarantine{}, fmt.Errorf("storage: put quarantine: %w", err)
	}
	q.Kind, q.Value = kind, value
	if q.ID == uuid.Nil {
		q.ID = uuid.New()
	}
	if q.CreatedAt.IsZero() {
		q.CreatedAt = time.Now()
	}
	q.CreatedAt = q.CreatedAt.UTC().Truncate(time.Second)
	if err := s.insertQuarantine(ctx, q); err != nil {
		return Quarantine{}, err
	}
	return q, nil
}

func (s *Store) insertQuarantine(ctx context.Context, q Quarantine) error {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	err := s.insertRow(ctx, "quarantines", "site_id, quarantine_id, from_ts, to_ts, kind, value, note, created_by, created_at, revoked, version",
		q.SiteID, q.ID, q.From, q.To, string(q.Kind), q.Value, q.Note, q.CreatedBy, q.CreatedAt, b2u(q.Revoked), version())
	if err != nil {
		return fmt.Errorf("storage: put quarantine: %w", err)
	}
	return nil
}

// Quarantines lists a site's quarantines, revoked ones included, by start
// of their window.
func (s *Store) Quarantines(ctx context.Context, siteID uuid.UUID) ([]Quarantine, error) {
	return s.quarantines(ctx, siteID, "")
}

// RevokeQuarantine revokes one of a site's quarantines, so its events count
// as they were scored again, and returns it. ErrNotFound when the site has
// no such quarantine, ErrRevoked when it was revoked already.
func (s *Store) RevokeQuarantine(ctx context.Context, siteID, id uuid.UUID) (Quarantine, error) {
	qs, err := s.quarantines(ctx, siteID, "AND quarantine_id = ?", id)
	if err != nil {
		return Quarantine{}, err
	}
	if len(qs) == 0 {
		return Quarantine{}, ErrNotFound
	}
	q := qs[0]
	if q.Revoked {
		return q, ErrRevoked
	}
	q.Revoked = true
	if err := s.insertQuarantine(ctx, q); err != nil {
		return Quarantine{}, err
	}
	return q, nil
}

func (s *Store) quarantines(ctx context.Context, siteID uuid.UUID, where string, args ...any) ([]Quarantine, error) {
	ctx, cancel := s.queryCtx(ctx)
	defer cancel()
	rows, err := s.db.Query(ctx, `SELECT site_id, quarantine_id, from_ts, to_ts, kind, value, note, created_by, created_at, revoked
		FROM quarantines FINAL WHERE site_id = ? `+where+` ORDER BY from_ts, created_at, quarantine_id`, append([]any{siteID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("storage: list quarantines: %w", err)
	}
	defer rows.Close()
	var out []Quarantine
	for rows.Next() {
		var q Quarantine
		var kind string
		var revoked uint8
		if err := rows.Scan(&q.SiteID, &q.ID, &q.From, &q.To, &kind, &q.Value, &q.Note, &q.CreatedBy, &q.CreatedAt, &revoked); err != nil {
			return nil, fmt.Errorf("storage: list quarantines: %w", err)
		}
		q.Kind, q.Revoked = QuarantineKind(kind), revoked == 1
		out = append(out, q)
	}
	return out, rows.Err()
}

// quarantined returns a SQL condition that is true for the site's events
// that an active quarantine covers, and its arguments, for a query on
// events with from <= ts < to. The SQL is fixed fragments, chosen by kind;
// every value is a bound argument. "0" when no quarantine applies.
func (s *Store) quarantined(ctx context.Context, siteID uuid.UUID, from, to time.Time) (string, []any, error) {
	qs, err := s.quarantines(ctx, siteID, "AND revoked = 0 AND from_ts < ? AND to_ts > ?", to, from)
	if err != nil {
		return "", nil, err
	}
	if len(qs) == 0 {
		return "0", nil, nil
	}
	var b strings.Builder
	var args []any
	b.WriteString("(")
	for i, q := range qs {
		if i > 0 {
			b.WriteString(" OR ")
		}
		match, margs := quarantineMatch(q)
		b.WriteString("(ts >= ? AND ts < ? AND " + match + ")")
		args = append(append(args, q.From, q.To), margs...)
	}
	b.WriteString(")")
	return b.String(), args, nil
}

// quarantineMatch is the condition on a quarantine's column. A stored row
// with an unknown kind or malformed value (never written by PutQuarantine)
// matches nothing rather than everything.
func quarantineMatch(q Quarantine) (string, []any) {
	switch q.Kind {
	case QuarantineASN:
		if n, err := strconv.ParseUint(q.Value, 10, 32); err == nil {
			return "asn = ?", []any{uint32(n)}
		}
	case QuarantineCountry:
		return "country = ?", []any{q.Value}
	case QuarantinePath:
		if prefix, ok := strings.CutSuffix(q.Value, "*"); ok {
			return "startsWith(pathname, ?)", []any{prefix}
		}
		return "pathname = ?", []any{q.Value}
	case QuarantineReferrerDomain:
		return "(domain(referrer) = ? OR endsWith(domain(referrer), ?))", []any{q.Value, "." + q.Value}
	case QuarantineSource:
		return "lowerUTF8(source) = lowerUTF8(?)", []any{q.Value}
	case QuarantineBrowser:
		return "lowerUTF8(browser) = lowerUTF8(?)", []any{q.Value}
	case QuarantineUTMSource:
		return "lowerUTF8(utm_source) = lowerUTF8(?)", []any{q.Value}
	}
	return "0", nil
}

// expandQuarantined puts the quarantine condition cond (from quarantined)
// in place of every "{quarantined}" in query, and its arguments condArgs
// where they belong among the query's own args, which follow the query's
// '?' in order. (A placeholder rather than concatenation keeps each query
// one literal, which TestEveryEventQueryIsBoundToASite reads whole.)
func expandQuarantined(query, cond string, condArgs []any, args ...any) (string, []any) {
	parts := strings.Split(query, "{quarantined}")
	out := make([]any, 0, len(args)+(len(parts)-1)*len(condArgs))
	for i, part := range parts {
		n := strings.Count(part, "?")
		out = append(out, args[:n]...)
		args = args[n:]
		if i < len(parts)-1 {
			out = append(out, condArgs...)
		}
	}
	return strings.Join(parts, cond), out
}
