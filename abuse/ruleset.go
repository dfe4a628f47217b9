package abuse

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// RuleInput is what a site's rules look at for one event.
type RuleInput struct {
	IP        netip.Addr // the client address (IPv4-mapped IPv6 is unmapped)
	ASN       uint32     // 0 when unknown
	Country   string     // ISO 3166-1 alpha-2, upper-case; "" when unknown
	UserAgent string
	Path      string // the page path as stored (percent-decoded)
}

// RuleSet is one site's rules compiled for matching. It is read-only once
// built, so the collector can share it between requests; a nil or empty
// RuleSet matches nothing.
//
// When an event matches both a deny and an allow rule, deny wins: a block
// is the stronger statement (a client who allows a country and blocks one
// scraper's network in it wants that network blocked), and an allow rule is
// meant to rescue false positives, not to launder traffic someone chose to
// refuse. Among rules of the same action the earliest in the list given to
// NewRuleSet is reported.
type RuleSet struct {
	rules       []Rule
	deny, allow ruleIndex
}

// ruleIndex holds one action's rules by kind; ints are indexes into
// RuleSet.rules. Slices keep rule order, so the first hit is the earliest.
type ruleIndex struct {
	nets      []indexed[netip.Prefix]
	asns      map[uint32]int
	countries map[string]int
	uas       []indexed[[]byte] // lower-case
	paths     map[string]int    // exact paths
	prefixes  []indexed[string] // path patterns without their '*'
}

type indexed[T any] struct {
	v T
	i int
}

// NewRuleSet compiles rules, checking each again with ParseRule (stored
// rules may predate a stricter check). A rule that fails is left out and
// named in the error; the returned set holds all the others, so one bad
// row does not disable a site's other rules.
func NewRuleSet(rules []Rule) (*RuleSet, error) {
	rs := &RuleSet{rules: make([]Rule, 0, len(rules))}
	var errs []error
	for _, r := range rules {
		norm, err := ParseRule(r.Action, r.Kind, r.Value)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %s: %w", uuid.UUID(r.ID), err))
			continue
		}
		norm.ID, norm.Note = r.ID, r.Note
		idx := &rs.allow
		if norm.Action == RuleDeny {
			idx = &rs.deny
		}
		idx.add(norm, len(rs.rules))
		rs.rules = append(rs.rules, norm)
	}
	return rs, errors.Join(errs...)
}

// Rules returns the compiled rules, in order.
func (rs *RuleSet) Rules() []Rule {
	if rs == nil {
		return nil
	}
	return slices.Clone(rs.rules)
}

// Len is the number of compiled rules.
func (rs *RuleSet) Len() int {
	if rs == nil {
		return 0
	}
	return len(rs.rules)
}

// add indexes r, which ParseRule has normalised, as rule i.
func (x *ruleIndex) add(r Rule, i int) {
	switch r.Kind {
	case RuleCIDR:
		x.nets = append(x.nets, indexed[netip.Prefix]{netip.MustParsePrefix(r.Value), i})
	case RuleASN:
		n, _ := strconv.ParseUint(r.Value, 10, 32)
		setFirst(&x.asns, uint32(n), i)
	case RuleCountry:
		setFirst(&x.countries, r.Value, i)
	case RuleUA:
		x.uas = append(x.uas, indexed[[]byte]{[]byte(r.Value), i})
	case RulePath:
		if prefix, ok := strings.CutSuffix(r.Value, "*"); ok {
			x.prefixes = append(x.prefixes, indexed[string]{prefix, i})
		} else {
			setFirst(&x.paths, r.Value, i)
		}
	}
}

// setFirst maps k to i unless an earlier rule has it already.
func setFirst[K comparable](m *map[K]int, k K, i int) {
	if *m == nil {
		*m = map[K]int{}
	}
	if _, ok := (*m)[k]; !ok {
		(*m)[k] = i
	}
}

// Match finds the rule that decides the event: the earliest matching deny
// rule, else the earliest matching allow rule. ok is false when none
// matches. It does not allocate for User-Agents up to 512 bytes.
func (rs *RuleSet) Match(in RuleInput) (rule Rule, action string, ok bool) {
	if rs == nil || len(rs.rules) == 0 {
		return Rule{}, "", false
	}
	in.IP = in.IP.Unmap()
	var buf [512]byte
	var ua []byte
	if len(rs.deny.uas) > 0 || len(rs.allow.uas) > 0 {
		ua = appendLowerASCII(buf[:0], in.UserAgent)
	}
	if i := rs.deny.match(&in, ua); i >= 0 {
		return rs.rules[i], RuleDeny, true
	}
	if i := rs.allow.match(&in, ua); i >= 0 {
		return rs.rules[i], RuleAllow, true
	}
	return Rule{}, "", false
}

// match returns the index of the earliest rule that matches, or -1.
func (x *ruleIndex) match(in *RuleInput, lowerUA []byte) int {
	best := -1
	hit := func(i int) {
		if best < 0 || i < best {
			best = i
		}
	}
	if in.IP.IsValid() {
		for _, n := range x.nets {
			if n.v.Contains(in.IP) {
				hit(n.i)
				break
			}
		}
	}
	if i, ok := x.asns[in.ASN]; ok && in.ASN != 0 {
		hit(i)
	}
	if i, ok := x.countries[in.Country]; ok {
		hit(i)
	}
	for _, u := range x.uas {
		if bytes.Contains(lowerUA, u.v) {
			hit(u.i)
			break
		}
	}
	if i, ok := x.paths[in.Path]; ok {
		hit(i)
	}
	for _, p := range x.prefixes {
		if strings.HasPrefix(in.Path, p.v) {
			hit(p.i)
			break
		}
	}
	return best
}

// appendLowerASCII appends s to dst with ASCII letters lower-cased (rule
// patterns are ASCII; other bytes are kept and cannot match them wrongly).
func appendLowerASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// Apply lets the site's rules override the scorer's result: a deny makes
// the event invalid, class ClassActivityList, adding ReasonRuleDeny; an
// allow makes it ok with no class, adding ReasonRuleAllow. The score and the
// scorer's reasons are kept, so the dashboard can show what a rule
// overrode. r.Reasons is never modified in place.
func (rs *RuleSet) Apply(r Result, in RuleInput) Result {
	_, action, ok := rs.Match(in)
	if !ok {
		return r
	}
	reason := ReasonRuleAllow
	r.Verdict, r.Class = VerdictOK, ""
	if action == RuleDeny {
		reason = ReasonRuleDeny
		r.Verdict, r.Class = VerdictInvalid, ClassActivityList
	}
	r.Reasons = append(slices.Clip(r.Reasons), reason)
	return r
}
