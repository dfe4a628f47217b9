package abuse

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

// Rule actions.
const (
	RuleAllow = "allow" // count it whatever the scorer says
	RuleDeny  = "deny"  // never count it
)

// Rule kinds: what a rule compares.
const (
	RuleCIDR    = "cidr"    // the client address is in a network
	RuleASN     = "asn"     // the client address belongs to an autonomous system
	RuleCountry = "country" // GeoIP country, ISO 3166-1 alpha-2
	RuleUA      = "ua"      // the User-Agent contains a substring (any case)
	RulePath    = "path"    // the page path: exact, or a prefix ending in '*'
)

// Reason codes a rule adds to the reasons it overrides.
const (
	ReasonRuleDeny  = "rule_deny"
	ReasonRuleAllow = "rule_allow"
)

// maxRuleValue bounds a rule's value: longer than any path the collector
// stores (2 KiB) and than a sensible User-Agent fragment.
const maxRuleValue = 2048

// Rule is one per-site override of the scorer. Values are normalised by
// ParseRule; build rules with it (or check stored ones with NewRuleSet).
type Rule struct {
	ID     [16]byte // the stored rule's id (a UUID); zero for an unsaved rule
	Action string   // RuleAllow or RuleDeny
	Kind   string   // RuleCIDR, RuleASN, RuleCountry, RuleUA or RulePath
	Value  string   // normalised: "203.0.113.0/24", "16509", "DE", "python-requests", "/admin/*"
	Note   string   // free text from whoever made it
}

// ParseRule validates a rule and normalises its value:
//   - cidr: an IPv4 or IPv6 network ("203.0.113.0/24"; host bits are
//     cleared) or a single address (becomes a /32 or /128);
//   - asn: a number from 1 to 4294967295, with or without "AS";
//   - country: an ISO 3166-1 alpha-2 code, any case ("uk" becomes "GB");
//   - ua: printable ASCII, matched anywhere in the User-Agent, ignoring case
//     (stored lower-case, outer spaces trimmed);
//   - path: "/exact/path" or a prefix ending in '*' ("/admin/*"); see
//     ParsePathPattern.
func ParseRule(action, kind, value string) (Rule, error) {
	if action != RuleAllow && action != RuleDeny {
		return Rule{}, fmt.Errorf("rule action %q: want allow or deny", action)
	}
	norm, err := normaliseRuleValue(kind, value)
	if err != nil {
		return Rule{}, err
	}
	return Rule{Action: action, Kind: kind, Value: norm}, nil
}

func normaliseRuleValue(kind, value string) (string, error) {
	if len(value) > maxRuleValue {
		return "", fmt.Errorf("rule value: longer than %d bytes", maxRuleValue)
	}
	switch kind {
	case RuleCIDR:
		p, err := parseCIDR(value)
		if err != nil {
			return "", err
		}
		return p.String(), nil
	case RuleASN:
		n, err := ParseASN(value)
		if err != nil {
			return "", err
		}
		return strconv.FormatUint(uint64(n), 10), nil
	case RuleCountry:
		return ParseCountry(value)
	case RuleUA:
		return parseUASubstring(value)
	case RulePath:
		return ParsePathPattern(value)
	}
	return "", fmt.Errorf("rule kind %q: want cidr, asn, country, ua or path", kind)
}

func parseCIDR(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	var err error
	if strings.Contains(s, "/") {
		p, err = netip.ParsePrefix(s)
	} else {
		var a netip.Addr
		if a, err = netip.ParseAddr(s); err == nil {
			p = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("cidr %q: want a network such as 203.0.113.0/24 or 2001:db8::/32, or one address", s)
	}
	if p.Addr().Is4In6() {
		// Client addresses are unmapped before matching, so such a
		// network could never match: ask for the IPv4 form.
		return netip.Prefix{}, fmt.Errorf("cidr %q: an IPv4-mapped IPv6 network; write it as IPv4", s)
	}
	return p.Masked(), nil
}

// ParseASN reads an autonomous system number: "16509" or "AS16509" (any
// case). 0 is refused: it stands for "unknown" in Verity's data, so a rule
// or quarantine on it would hit every visitor whose network is unknown.
func ParseASN(s string) (uint32, error) {
	t := strings.TrimSpace(s)
	if len(t) > 2 && strings.EqualFold(t[:2], "AS") {
		t = t[2:]
	}
	if t == "" || len(t) > 10 || strings.Trim(t, "0123456789") != "" {
		return 0, fmt.Errorf("asn %q: want a number such as 16509 or AS16509", s)
	}
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("asn %q: want a number from 1 to 4294967295", s)
	}
	return uint32(n), nil
}

// ParseCountry reads an ISO 3166-1 alpha-2 country code in any case and
// returns it upper-case and canonical, as GeoIP databases report it
// ("uk" → "GB"). Codes that are not countries (EU, ZZ, XX) are refused:
// no visitor would ever match them.
func ParseCountry(s string) (string, error) {
	t := strings.TrimSpace(s)
	if len(t) != 2 || !isASCIILetter(t[0]) || !isASCIILetter(t[1]) {
		return "", fmt.Errorf("country %q: want a two-letter ISO 3166-1 code such as DE or US", s)
	}
	r, err := language.ParseRegion(t)
	if err != nil || !r.IsCountry() {
		return "", fmt.Errorf("country %q: not an ISO 3166-1 country code", s)
	}
	return r.Canonicalize().String(), nil
}

func isASCIILetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }

// parseUASubstring checks a User-Agent fragment. Headers are ASCII, and
// matching folds ASCII case only, so the fragment must be printable ASCII.
func parseUASubstring(s string) (string, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", errors.New("ua: want a non-empty part of a User-Agent, such as python-requests")
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return "", fmt.Errorf("ua %q: only printable ASCII, as in User-Agent headers", s)
		}
	}
	return strings.ToLower(t), nil
}

// ParsePathPattern reads a page path: "/pricing" matches that page exactly;
// a trailing '*' makes a prefix: "/admin/*" matches every page under
// /admin/ (not /admin itself), "/blog*" matches /blog, /blog/x and
// /blogroll. Paths are stored percent-decoded and without a trailing '/',
// so "/pricing/" becomes "/pricing", and '?', '#' and control characters
// are refused. "/*" matches every page.
func ParsePathPattern(s string) (string, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "/") {
		return "", fmt.Errorf("path %q: want a path starting with /, such as /pricing or /admin/*", s)
	}
	if !utf8.ValidString(t) || strings.ContainsAny(t, "?#") || strings.ContainsFunc(t, unicode.IsControl) {
		return "", fmt.Errorf("path %q: no query (?), fragment (#) or control characters", s)
	}
	if i := strings.IndexByte(t, '*'); i >= 0 && i != len(t)-1 {
		return "", fmt.Errorf("path %q: '*' may only end a prefix, as in /admin/*", s)
	}
	if !strings.HasSuffix(t, "*") && len(t) > 1 {
		t = strings.TrimRight(t, "/")
		if t == "" {
			t = "/"
		}
	}
	return t, nil
}

// MatchPath reports whether a stored page path matches a pattern from
// ParsePathPattern.
func MatchPath(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return path == pattern
}
