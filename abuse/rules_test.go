package abuse

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	cases := []struct {
		action, kind, value string
		want                string // normalised value; "" when an error is expected
		wantErr             string
	}{
		{"deny", "cidr", "203.0.113.0/24", "203.0.113.0/24", ""},
		{"deny", "cidr", " 203.0.113.77/24 ", "203.0.113.0/24", ""}, // host bits cleared
		{"allow", "cidr", "2001:DB8::1/32", "2001:db8::/32", ""},
		{"deny", "cidr", "198.51.100.7", "198.51.100.7/32", ""},
		{"deny", "cidr", "2001:db8::7", "2001:db8::7/128", ""},
		{"deny", "cidr", "0.0.0.0/0", "0.0.0.0/0", ""},
		{"deny", "cidr", "10.0.0.0/33", "", "want a network"},
		{"deny", "cidr", "example.com", "", "want a network"},
		{"deny", "cidr", "fe80::1%eth0/64", "", "want a network"},
		{"deny", "cidr", "::ffff:1.2.3.0/120", "", "write it as IPv4"},
		{"deny", "cidr", "", "", "want a network"},
		{"deny", "asn", "16509", "16509", ""},
		{"deny", "asn", "AS16509", "16509", ""},
		{"deny", "asn", "as016509", "16509", ""},
		{"deny", "asn", " 4294967295 ", "4294967295", ""},
		{"deny", "asn", "4294967296", "", "from 1 to 4294967295"},
		{"deny", "asn", "0", "", "from 1 to 4294967295"},
		{"deny", "asn", "AS", "", "such as 16509"},
		{"deny", "asn", "AS 16509", "", "such as 16509"},
		{"deny", "asn", "-1", "", "such as 16509"},
		{"deny", "asn", "1_000", "", "such as 16509"},
		{"deny", "asn", "0x10", "", "such as 16509"},
		{"allow", "country", "de", "DE", ""},
		{"allow", "country", " Us ", "US", ""},
		{"allow", "country", "UK", "GB", ""}, // the usual slip: ISO says GB
		{"allow", "country", "EU", "", "not an ISO 3166-1 country"},
		{"allow", "country", "ZZ", "", "not an ISO 3166-1 country"},
		{"allow", "country", "DEU", "", "two-letter"},
		{"allow", "country", "D1", "", "two-letter"},
		{"allow", "country", "", "", "two-letter"},
		{"deny", "ua", "Python-Requests", "python-requests", ""},
		{"deny", "ua", "  curl/ ", "curl/", ""},
		{"deny", "ua", "   ", "", "non-empty"},
		{"deny", "ua", "bot\n", "bot", ""}, // outer space, newline included, is trimmed
		{"deny", "ua", "b\x00t", "", "printable ASCII"},
		{"deny", "ua", "Bötli", "", "printable ASCII"},
		{"deny", "path", "/pricing", "/pricing", ""},
		{"deny", "path", "/pricing/", "/pricing", ""},
		{"deny", "path", "/", "/", ""},
		{"deny", "path", "//", "/", ""},
		{"deny", "path", "/admin/*", "/admin/*", ""},
		{"deny", "path", "/*", "/*", ""},
		{"deny", "path", "/blog*", "/blog*", ""},
		{"deny", "path", "/straße", "/straße", ""},
		{"deny", "path", "pricing", "", "starting with /"},
		{"deny", "path", "/a*b", "", "may only end"},
		{"deny", "path", "/a**", "", "may only end"},
		{"deny", "path", "/a?b=1", "", "no query"},
		{"deny", "path", "/a#top", "", "no query"},
		{"deny", "path", "/a\x7f", "", "control"},
		{"deny", "path", "/\xff", "", "control"},
		{"deny", "path", "/" + strings.Repeat("a", maxRuleValue), "", "longer than"},
		{"block", "asn", "16509", "", "want allow or deny"},
		{"deny", "ip", "1.2.3.4", "", "want cidr, asn, country, ua or path"},
		{"deny", "ASN", "16509", "", "want cidr, asn, country, ua or path"},
	}
	for _, c := range cases {
		got, err := ParseRule(c.action, c.kind, c.value)
		name := fmt.Sprintf("ParseRule(%q, %q, %q)", c.action, c.kind, c.value)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s = %+v, %v; want an error with %q", name, got, err, c.wantErr)
			}
			if got != (Rule{}) {
				t.Errorf("%s returned %+v with its error", name, got)
			}
			continue
		}
		want := Rule{Action: c.action, Kind: c.kind, Value: c.want}
		if err != nil || got != want {
			t.Errorf("%s = %+v, %v; want %+v", name, got, err, want)
		}
	}
}

// testRules is a small rule list; the tests refer to rules by index.
var testRules = []Rule{
	{ID: [16]byte{0}, Action: "allow", Kind: "country", Value: "de"},              // 0
	{ID: [16]byte{1}, Action: "deny", Kind: "asn", Value: "AS16509", Note: "aws"}, // 1
	{ID: [16]byte{2}, Action: "allow", Kind: "cidr", Value: "203.0.113.0/24"},     // 2
	{ID: [16]byte{3}, Action: "deny", Kind: "ua", Value: "HeadlessChrome"},        // 3
	{ID: [16]byte{4}, Action: "deny", Kind: "path", Value: "/admin/*"},            // 4
	{ID: [16]byte{5}, Action: "allow", Kind: "path", Value: "/status"},            // 5
	{ID: [16]byte{6}, Action: "deny", Kind: "cidr", Value: "2001:db8::/32"},       // 6
	{ID: [16]byte{7}, Action: "deny", Kind: "cidr", Value: "198.51.100.0/24"},     // 7
	{ID: [16]byte{8}, Action: "allow", Kind: "ua", Value: "monitor"},              // 8
	{ID: [16]byte{9}, Action: "deny", Kind: "country", Value: "KP"},               // 9
	{ID: [16]byte{10}, Action: "deny", Kind: "asn", Value: "16509"},               // 10: same as 1, later
	{ID: [16]byte{11}, Action: "deny", Kind: "path", Value: "/wp-login.php"},      // 11
}

func TestRuleSetMatch(t *testing.T) {
	rs, err := NewRuleSet(testRules)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Len() != len(testRules) {
		t.Fatalf("Len = %d", rs.Len())
	}
	const browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
	cases := []struct {
		name   string
		in     RuleInput
		want   int // rule index, -1 for no match
		action string
	}{
		{"nothing known", RuleInput{}, -1, ""},
		{"ordinary visitor", RuleInput{IP: netip.MustParseAddr("192.0.2.1"), ASN: 3320, Country: "FR", UserAgent: browser, Path: "/"}, -1, ""},
		{"allowed country", RuleInput{Country: "DE", UserAgent: browser, Path: "/"}, 0, "allow"},
		{"country is compared as stored (upper-case)", RuleInput{Country: "de"}, -1, ""},
		{"denied ASN", RuleInput{ASN: 16509}, 1, "deny"},
		{"deny wins over allow", RuleInput{ASN: 16509, Country: "DE", IP: netip.MustParseAddr("203.0.113.9")}, 1, "deny"},
		{"earliest deny reported", RuleInput{ASN: 16509, UserAgent: "HeadlessChrome/126", Path: "/admin/x"}, 1, "deny"},
		{"earliest of two denies", RuleInput{UserAgent: "HeadlessChrome/126", Path: "/admin/x"}, 3, "deny"},
		{"allowed network", RuleInput{IP: netip.MustParseAddr("203.0.113.200")}, 2, "allow"},
		{"IPv4-mapped address is unmapped", RuleInput{IP: netip.MustParseAddr("::ffff:198.51.100.4")}, 7, "deny"},
		{"IPv6 network", RuleInput{IP: netip.MustParseAddr("2001:db8:1::5")}, 6, "deny"},
		{"outside the networks", RuleInput{IP: netip.MustParseAddr("2001:db9::1")}, -1, ""},
		{"UA substring, any case", RuleInput{UserAgent: "Mozilla/5.0 HEADLESSCHROME/126"}, 3, "deny"},
		{"allow UA", RuleInput{UserAgent: "Uptime-Monitor/2.0"}, 8, "allow"},
		{"path prefix", RuleInput{Path: "/admin/users"}, 4, "deny"},
		{"prefix does not cover the folder itself", RuleInput{Path: "/admin"}, -1, ""},
		{"exact path", RuleInput{Path: "/status"}, 5, "allow"},
		{"exact path only", RuleInput{Path: "/status/db"}, -1, ""},
		{"denied country", RuleInput{Country: "KP", Path: "/status"}, 9, "deny"},
		{"exact deny path", RuleInput{Path: "/wp-login.php"}, 11, "deny"},
		{"ASN 0 means unknown", RuleInput{ASN: 0}, -1, ""},
	}
	for _, c := range cases {
		rule, action, ok := rs.Match(c.in)
		if c.want < 0 {
			if ok || action != "" || rule != (Rule{}) {
				t.Errorf("%s: Match = %+v, %q, %v; want no match", c.name, rule, action, ok)
			}
			continue
		}
		want, _ := ParseRule(testRules[c.want].Action, testRules[c.want].Kind, testRules[c.want].Value)
		want.ID, want.Note = testRules[c.want].ID, testRules[c.want].Note
		if !ok || action != c.action || rule != want {
			t.Errorf("%s: Match = %+v, %q, %v; want rule %d %+v, %q", c.name, rule, action, ok, c.want, want, c.action)
		}
	}
}

func TestRuleSetEmptyAndNil(t *testing.T) {
	var nilSet *RuleSet
	empty, err := NewRuleSet(nil)
	if err != nil {
		t.Fatal(err)
	}
	in := RuleInput{IP: netip.MustParseAddr("192.0.2.1"), ASN: 1, Country: "DE", UserAgent: "x", Path: "/"}
	r := Result{Score: 50, Verdict: VerdictSuspect, Reasons: []string{"datacenter"}}
	for name, rs := range map[string]*RuleSet{"nil": nilSet, "empty": empty} {
		if _, _, ok := rs.Match(in); ok {
			t.Errorf("%s set matched", name)
		}
		if got := rs.Apply(r, in); !reflect.DeepEqual(got, r) {
			t.Errorf("%s set: Apply = %+v, want it unchanged", name, got)
		}
		if rs.Len() != 0 || len(rs.Rules()) != 0 {
			t.Errorf("%s set: Len %d, Rules %v", name, rs.Len(), rs.Rules())
		}
	}
}

// A stored rule that no longer parses is left out and reported; the
// others still apply.
func TestNewRuleSetReportsBadRules(t *testing.T) {
	rules := []Rule{
		{ID: [16]byte{0xaa}, Action: "deny", Kind: "asn", Value: "banana"},
		{ID: [16]byte{0xbb}, Action: "deny", Kind: "country", Value: "kp"},
		{ID: [16]byte{0xcc}, Action: "maybe", Kind: "path", Value: "/"},
	}
	rs, err := NewRuleSet(rules)
	if err == nil || !strings.Contains(err.Error(), "rule aa000000-0000-0000-0000-000000000000: asn") ||
		!strings.Contains(err.Error(), "rule cc000000-0000-0000-0000-000000000000: rule action") {
		t.Fatalf("err = %v, want both bad rules named", err)
	}
	want := []Rule{{ID: [16]byte{0xbb}, Action: "deny", Kind: "country", Value: "KP"}}
	if got := rs.Rules(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Rules = %+v, want %+v", got, want)
	}
	if _, action, ok := rs.Match(RuleInput{Country: "KP"}); !ok || action != RuleDeny {
		t.Fatalf("the valid rule does not apply")
	}
}

func TestRuleSetApply(t *testing.T) {
	rs, err := NewRuleSet(testRules)
	if err != nil {
		t.Fatal(err)
	}
	// Spare capacity: Apply must not write into the caller's array.
	reasons := make([]string, 2, 8)
	reasons[0], reasons[1] = "datacenter", "ua_client_hints_mismatch"
	suspect := Result{Score: 90, Verdict: VerdictInvalid, Class: ClassAutomation, Reasons: reasons}
	cases := []struct {
		name string
		in   Result
		at   RuleInput
		want Result
	}{
		{"deny overrides ok", Result{Score: 0, Verdict: VerdictOK}, RuleInput{ASN: 16509},
			Result{Score: 0, Verdict: VerdictInvalid, Class: ClassActivityList, Reasons: []string{"rule_deny"}}},
		{"deny replaces the class, keeps the reasons", suspect, RuleInput{Path: "/admin/x"},
			Result{Score: 90, Verdict: VerdictInvalid, Class: ClassActivityList, Reasons: []string{"datacenter", "ua_client_hints_mismatch", "rule_deny"}}},
		{"allow rescues a false positive", suspect, RuleInput{Country: "DE"},
			Result{Score: 90, Verdict: VerdictOK, Class: "", Reasons: []string{"datacenter", "ua_client_hints_mismatch", "rule_allow"}}},
		{"allow even a declared crawler", Result{Score: 100, Verdict: VerdictInvalid, Class: ClassDeclaredCrawler, Reasons: []string{"declared_bot"}}, RuleInput{UserAgent: "UptimeMonitor"},
			Result{Score: 100, Verdict: VerdictOK, Class: "", Reasons: []string{"declared_bot", "rule_allow"}}},
		{"no rule: unchanged", suspect, RuleInput{Country: "FR"}, suspect},
	}
	for _, c := range cases {
		got := rs.Apply(c.in, c.at)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Apply = %+v, want %+v", c.name, got, c.want)
		}
	}
	if got := reasons[:3]; got[2] != "" {
		t.Fatalf("Apply wrote %q into the caller's reasons array", got[2])
	}
}

func TestMatchPath(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"/a", "/a", true}, {"/a", "/a/b", false}, {"/a/*", "/a/b", true}, {"/a/*", "/a", false},
		{"/a*", "/a", true}, {"/a*", "/ab", true}, {"/*", "/", true}, {"/*", "/x/y", true}, {"/a", "/A", false},
	} {
		if got := MatchPath(c.pattern, c.path); got != c.want {
			t.Errorf("MatchPath(%q, %q) = %v", c.pattern, c.path, got)
		}
	}
}

// FuzzParseRule: whatever the input, ParseRule does not panic; an accepted
// rule echoes action and kind, has a bounded value that parses to itself
// (normalising twice changes nothing), and compiles into a RuleSet.
func FuzzParseRule(f *testing.F) {
	for _, r := range testRules {
		f.Add(r.Action, r.Kind, r.Value)
	}
	f.Add("deny", "cidr", "::ffff:1.2.3.4/128")
	f.Add("deny", "path", "/a/*")
	f.Add("allow", "country", "uk")
	f.Fuzz(func(t *testing.T, action, kind, value string) {
		r, err := ParseRule(action, kind, value)
		if err != nil {
			return
		}
		if r.Action != action || r.Kind != kind || r.ID != [16]byte{} || r.Note != "" {
			t.Fatalf("ParseRule(%q, %q, %q) = %+v", action, kind, value, r)
		}
		if len(r.Value) == 0 || len(r.Value) > maxRuleValue {
			t.Fatalf("value %q: length %d", r.Value, len(r.Value))
		}
		again, err := ParseRule(action, kind, r.Value)
		if err != nil || again != r {
			t.Fatalf("not idempotent: %q -> %+v -> %+v, %v", value, r, again, err)
		}
		if rs, err := NewRuleSet([]Rule{r}); err != nil || rs.Len() != 1 {
			t.Fatalf("NewRuleSet(%+v): %v", r, err)
		}
	})
}

// benchRules is 50 rules, ten of each kind, half allow and half deny, in
// the shape a busy site might have.
func benchRules(b *testing.B) *RuleSet {
	var rules []Rule
	countries := []string{"DE", "FR", "US", "GB", "NL", "KP", "RU", "CN", "BR", "IN"}
	for i := range 10 {
		action := []string{"allow", "deny"}[i%2]
		rules = append(rules,
			Rule{Action: action, Kind: "cidr", Value: fmt.Sprintf("198.%d.100.0/24", 10+i)},
			Rule{Action: action, Kind: "asn", Value: fmt.Sprint(64500 + i)},
			Rule{Action: action, Kind: "country", Value: countries[i]},
			Rule{Action: action, Kind: "ua", Value: fmt.Sprintf("scraper-%d", i)},
			Rule{Action: action, Kind: "path", Value: fmt.Sprintf("/section-%d/*", i)},
		)
	}
	rs, err := NewRuleSet(rules)
	if err != nil || rs.Len() != 50 {
		b.Fatalf("%d rules: %v", rs.Len(), err)
	}
	return rs
}

const benchUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

// BenchmarkRuleSetMatchMiss is the common case: an ordinary visitor whom
// no rule concerns, so every index is consulted.
func BenchmarkRuleSetMatchMiss(b *testing.B) {
	rs := benchRules(b)
	in := RuleInput{IP: netip.MustParseAddr("192.0.2.44"), ASN: 3320, Country: "AT", UserAgent: benchUA, Path: "/pricing"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := rs.Match(in); ok {
			b.Fatal("matched")
		}
	}
}

// BenchmarkRuleSetMatchHit: an event that both a deny and an allow rule
// concern.
func BenchmarkRuleSetMatchHit(b *testing.B) {
	rs := benchRules(b)
	in := RuleInput{IP: netip.MustParseAddr("198.19.100.7"), ASN: 64500, Country: "DE", UserAgent: benchUA + " scraper-9", Path: "/section-3/x"}
	b.ReportAllocs()
	for b.Loop() {
		if _, action, ok := rs.Match(in); !ok || action != RuleDeny {
			b.Fatal("no deny")
		}
	}
}
