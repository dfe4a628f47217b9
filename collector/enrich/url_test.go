package enrich

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

type pageCase struct {
	name, raw string
	want      Page
}

var pageCases = []pageCase{
	{"root", "https://example.com/", Page{Hostname: "example.com", Pathname: "/"}},
	{"no path", "https://example.com", Page{Hostname: "example.com", Pathname: "/"}},
	{"http", "http://example.com/a", Page{Hostname: "example.com", Pathname: "/a"}},
	{"spaces around", " \thttps://example.com/a\n", Page{Hostname: "example.com", Pathname: "/a"}},
	{"case: scheme and host lowered, path kept, www kept", "HTTPS://WWW.Example.COM/About/Us",
		Page{Hostname: "www.example.com", Pathname: "/About/Us"}},
	{"user info and port dropped", "http://user:secret@example.com:8080/a",
		Page{Hostname: "example.com", Pathname: "/a"}},
	{"empty port", "https://example.com:/a", Page{Hostname: "example.com", Pathname: "/a"}},
	{"trailing dot in host", "https://example.com./a", Page{Hostname: "example.com", Pathname: "/a"}},
	{"underscore and digits in host", "https://my_host-1.example.com/", Page{Hostname: "my_host-1.example.com", Pathname: "/"}},
	{"punycode host", "https://xn--bcher-kva.de/", Page{Hostname: "xn--bcher-kva.de", Pathname: "/"}},
	{"IPv4", "http://192.168.0.1/admin", Page{Hostname: "192.168.0.1", Pathname: "/admin"}},
	{"IPv6 with port, normalised", "http://[::0001]:3000/x", Page{Hostname: "::1", Pathname: "/x"}},
	{"localhost", "http://localhost:8080/", Page{Hostname: "localhost", Pathname: "/"}},
	{"trailing slash", "https://example.com/blog/", Page{Hostname: "example.com", Pathname: "/blog"}},
	{"trailing slashes", "https://example.com/blog///", Page{Hostname: "example.com", Pathname: "/blog"}},
	{"double slashes", "https://example.com//a///b//c", Page{Hostname: "example.com", Pathname: "/a/b/c"}},
	{"only slashes", "https://example.com////", Page{Hostname: "example.com", Pathname: "/"}},
	{"fragment", "https://example.com/docs#install", Page{Hostname: "example.com", Pathname: "/docs"}},
	{"query in fragment is not a query", "https://example.com/a#x?utm_source=foo&gclid=1",
		Page{Hostname: "example.com", Pathname: "/a"}},
	{"hash route", "https://example.com/#/settings", Page{Hostname: "example.com", Pathname: "/"}},
	{"query dropped", "https://example.com/search?q=my+secret", Page{Hostname: "example.com", Pathname: "/search"}},
	{"query without path", "https://example.com?q=1", Page{Hostname: "example.com", Pathname: "/"}},
	{"encoded UTF-8", "https://example.com/caf%C3%A9/%E2%82%AC", Page{Hostname: "example.com", Pathname: "/café/€"}},
	{"raw UTF-8", "https://example.com/café", Page{Hostname: "example.com", Pathname: "/café"}},
	{"decoded once", "https://example.com/a%2520b", Page{Hostname: "example.com", Pathname: "/a%20b"}},
	{"encoded space, plus kept", "https://example.com/a%20b+c", Page{Hostname: "example.com", Pathname: "/a b+c"}},
	{"encoded slashes collapse", "https://example.com/a%2F%2Fb%2F", Page{Hostname: "example.com", Pathname: "/a/b"}},
	{"encoded ? and #", "https://example.com/a%3Fb%23c", Page{Hostname: "example.com", Pathname: "/a?b#c"}},
	{"malformed escapes kept", "https://example.com/100%zz%4", Page{Hostname: "example.com", Pathname: "/100%zz%4"}},
	{"invalid UTF-8 dropped", "https://example.com/a%FFb%C3", Page{Hostname: "example.com", Pathname: "/ab"}},
	{"control characters dropped", "https://example.com/a%00b%0A%7F%C2%85c", Page{Hostname: "example.com", Pathname: "/abc"}},
	{"dropped character leaves double slash", "https://example.com/a/%00/b", Page{Hostname: "example.com", Pathname: "/a/b"}},
	{"backslash ends the host, as in browsers", `https://evil.com\@good.com/`, Page{Hostname: "evil.com", Pathname: `/\@good.com`}},
	{"dot segments kept", "https://example.com/a/../b/./c", Page{Hostname: "example.com", Pathname: "/a/../b/./c"}},
	{"long path cut on a rune boundary", "https://example.com/" + strings.Repeat("é", 1500),
		Page{Hostname: "example.com", Pathname: "/" + strings.Repeat("é", 1023)}}, // 2047 bytes: one more é is 2049
	{"long encoded path cut", "https://example.com/" + strings.Repeat("%E2%82%AC", 800),
		Page{Hostname: "example.com", Pathname: "/" + strings.Repeat("€", 682)}}, // 1+3*682 = 2047
	{"slash at the cut dropped", "https://example.com/" + strings.Repeat("a", 2046) + "/bbbb",
		Page{Hostname: "example.com", Pathname: "/" + strings.Repeat("a", 2046)}},
	{"path at the limit", "https://example.com/" + strings.Repeat("a", 2047),
		Page{Hostname: "example.com", Pathname: "/" + strings.Repeat("a", 2047)}},

	{"all UTM fields", "https://example.com/?utm_source=Google&utm_medium=CPC&utm_campaign=Spring%20Sale&utm_content=Banner+1&utm_term=Running%20Shoes",
		Page{Hostname: "example.com", Pathname: "/", UTMSource: "google", UTMMedium: "cpc",
			UTMCampaign: "Spring Sale", UTMContent: "Banner 1", UTMTerm: "Running Shoes"}},
	{"UTM trimmed, names case-insensitive", "https://example.com/p?UTM_Source=%20Newsletter%20&Utm_Medium=+Email+&utm_campaign=%09May%0A",
		Page{Hostname: "example.com", Pathname: "/p", UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "May"}},
	{"escaped parameter name", "https://example.com/?utm%5Fsource=x", Page{Hostname: "example.com", Pathname: "/", UTMSource: "x"}},
	{"ref fallback", "https://example.com/?ref=ProductHunt", Page{Hostname: "example.com", Pathname: "/", UTMSource: "producthunt"}},
	{"source fallback", "https://example.com/?source=Twitter", Page{Hostname: "example.com", Pathname: "/", UTMSource: "twitter"}},
	{"utm_source beats ref and source", "https://example.com/?ref=a&source=b&utm_source=c",
		Page{Hostname: "example.com", Pathname: "/", UTMSource: "c"}},
	{"ref beats source", "https://example.com/?source=a&ref=b", Page{Hostname: "example.com", Pathname: "/", UTMSource: "b"}},
	{"empty utm_source falls back", "https://example.com/?utm_source=%20&ref=b", Page{Hostname: "example.com", Pathname: "/", UTMSource: "b"}},
	{"first non-empty occurrence", "https://example.com/?utm_source=&utm_source=x&utm_source=y",
		Page{Hostname: "example.com", Pathname: "/", UTMSource: "x"}},
	{"UTM control characters and invalid UTF-8 dropped", "https://example.com/?utm_campaign=a%00b%FFc",
		Page{Hostname: "example.com", Pathname: "/", UTMCampaign: "abc"}},
	{"UTM malformed escape kept", "https://example.com/?utm_campaign=50%off", Page{Hostname: "example.com", Pathname: "/", UTMCampaign: "50%off"}},
	{"UTM value with =", "https://example.com/?utm_content=a=b", Page{Hostname: "example.com", Pathname: "/", UTMContent: "a=b"}},
	{"UTM source and medium lower-cased beyond ASCII", "https://example.com/?utm_source=%C3%89COLE&utm_medium=%C3%89MAIL&utm_term=%C3%89T%C3%89",
		Page{Hostname: "example.com", Pathname: "/", UTMSource: "école", UTMMedium: "émail", UTMTerm: "ÉTÉ"}},
	{"UTM cut on a rune boundary", "https://example.com/?utm_campaign=" + strings.Repeat("%C3%A9", 200),
		Page{Hostname: "example.com", Pathname: "/", UTMCampaign: strings.Repeat("é", 128)}},
	{"UTM cut exposes a space", "https://example.com/?utm_term=" + strings.Repeat("a", 255) + "+b",
		Page{Hostname: "example.com", Pathname: "/", UTMTerm: strings.Repeat("a", 255)}},
	{"semicolon is not a separator", "https://example.com/?utm_source=a;utm_medium=b", Page{Hostname: "example.com", Pathname: "/", UTMSource: "a;utm_medium=b"}},
	{"empty pairs", "https://example.com/?&&=x&utm_medium=social&", Page{Hostname: "example.com", Pathname: "/", UTMMedium: "social"}},

	{"gclid, value not kept", "https://example.com/landing?gclid=EAIaIQobChMI", Page{Hostname: "example.com", Pathname: "/landing", ClickID: "gclid"}},
	{"fbclid", "https://example.com/?fbclid=IwAR3x", Page{Hostname: "example.com", Pathname: "/", ClickID: "fbclid"}},
	{"msclkid", "https://example.com/?msclkid=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "msclkid"}},
	{"ttclid", "https://example.com/?ttclid=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "ttclid"}},
	{"twclid", "https://example.com/?twclid=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "twclid"}},
	{"li_fat_id", "https://example.com/?li_fat_id=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "li_fat_id"}},
	{"dclid", "https://example.com/?dclid=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "dclid"}},
	{"wbraid", "https://example.com/?wbraid=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "wbraid"}},
	{"gbraid", "https://example.com/?gbraid=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "gbraid"}},
	{"click id name case-insensitive", "https://example.com/?GCLID=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "gclid"}},
	{"click id priority is the list's, not the query's", "https://example.com/?msclkid=1&fbclid=2&gclid=3",
		Page{Hostname: "example.com", Pathname: "/", ClickID: "gclid"}},
	{"empty click id ignored", "https://example.com/?gclid=&fbclid=+&msclkid=1", Page{Hostname: "example.com", Pathname: "/", ClickID: "msclkid"}},
	{"click id with UTM", "https://example.com/?utm_source=google&utm_medium=cpc&gclid=x",
		Page{Hostname: "example.com", Pathname: "/", UTMSource: "google", UTMMedium: "cpc", ClickID: "gclid"}},
}

func TestParsePage(t *testing.T) {
	for _, tc := range pageCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePage(tc.raw)
			if err != nil {
				t.Fatalf("ParsePage: %v", err)
			}
			if got != tc.want {
				t.Errorf("ParsePage(%.80q)\n got  %+v\n want %+v", tc.raw, got, tc.want)
			}
		})
	}
}

func TestParsePageErrors(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"empty", "", "empty"},
		{"spaces", " \t\n", "empty"},
		{"too long", "https://example.com/" + strings.Repeat("a", MaxURLLength), "longer than 8192 bytes"},
		{"relative path", "/relative/path?utm_source=x", "not an absolute url"},
		{"protocol-relative", "//example.com/a", "not an absolute url"},
		{"bare host", "example.com/path", "not an absolute url"},
		{"no slashes", "https:example.com", "not an absolute url"},
		{"one slash", "https:/example.com", "not an absolute url"},
		{"bad scheme characters", "ht tp://example.com", "not an absolute url"},
		{"javascript", "javascript:alert(1)", "not an absolute url"},
		{"mailto", "mailto:a@example.com", "not an absolute url"},
		{"ftp", "ftp://example.com/", "scheme is not http or https"},
		{"file", "file:///etc/passwd", "scheme is not http or https"},
		{"android-app", "android-app://com.example", "scheme is not http or https"},
		{"no host", "https:///path", "no host"},
		{"user info only", "https://user@/path", "no host"},
		{"port only", "https://:80/", "no host"},
		{"space in host", "https://exa mple.com/", "invalid host"},
		{"escape in host", "https://exa%6Dple.com/", "invalid host"},
		{"unicode host", "https://bücher.de/", "invalid host"},
		{"empty label", "https://a..b/", "invalid host"},
		{"leading dot", "https://.example.com/", "invalid host"},
		{"two trailing dots", "https://example.com../", "invalid host"},
		{"html in host", "https://a<b>.com/", "invalid host"},
		{"unclosed bracket", "https://[::1/", "invalid host"},
		{"IPv4 in brackets", "https://[127.0.0.1]/", "invalid host"},
		{"IPv6 zone", "https://[fe80::1%25eth0]/", "invalid host"},
		{"junk after bracket", "https://[::1]x/", "invalid host"},
		{"IPv6 without brackets", "https://::1/", "invalid host"},
		{"bad port", "https://example.com:80a/", "invalid port"},
		{"host too long", "https://" + strings.Repeat("a.", 127) + "com/", "host longer than 253 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePage(tc.raw)
			if err == nil {
				t.Fatalf("ParsePage(%.80q) = %+v, want error", tc.raw, got)
			}
			if got != (Page{}) {
				t.Errorf("ParsePage returned %+v with its error", got)
			}
			if !errors.Is(err, ErrInvalidPage) {
				t.Errorf("error %v does not wrap ErrInvalidPage", err)
			}
			if want := "enrich: invalid page url: " + tc.want; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
		})
	}
}

// TestParsePageCopiesInput parses from a buffer that is then overwritten,
// as Fiber reuses request buffers: the Page must not change.
func TestParsePageCopiesInput(t *testing.T) {
	const raw = "https://Example.com/Blog?utm_source=news&utm_medium=email&utm_campaign=May&utm_content=c&utm_term=t&gclid=1"
	buf := []byte(raw)
	got, err := ParsePage(unsafe.String(&buf[0], len(buf)))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ParsePage(strings.Clone(raw))
	if err != nil {
		t.Fatal(err)
	}
	for i := range buf {
		buf[i] = 'X'
	}
	if got != want {
		t.Fatalf("after the buffer changed: %+v, want %+v", got, want)
	}
}

// assemblePage writes p back as a URL, with net/url's escaping rather than
// ours, so a round trip checks both directions.
func assemblePage(p Page) string {
	host := p.Hostname
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	q := url.Values{}
	for k, v := range map[string]string{
		"utm_source": p.UTMSource, "utm_medium": p.UTMMedium, "utm_campaign": p.UTMCampaign,
		"utm_content": p.UTMContent, "utm_term": p.UTMTerm, p.ClickID: "1",
	} {
		if k != "" && v != "" {
			q.Set(k, v)
		}
	}
	u := url.URL{Scheme: "https", Host: host, Path: p.Pathname, RawQuery: q.Encode()}
	return u.String()
}

// checkPage asserts what every Page ParsePage returns satisfies: bounded,
// valid UTF-8, normalised fields.
func checkPage(t *testing.T, p Page) {
	t.Helper()
	if p.Hostname == "" || len(p.Hostname) > maxHostLength || p.Hostname != strings.ToLower(p.Hostname) {
		t.Fatalf("bad Hostname %q", p.Hostname)
	}
	for _, c := range []byte(p.Hostname) {
		if c >= utf8.RuneSelf || c <= ' ' {
			t.Fatalf("Hostname %q is not printable ASCII", p.Hostname)
		}
	}
	if !strings.HasPrefix(p.Pathname, "/") || len(p.Pathname) > MaxPathLength || !utf8.ValidString(p.Pathname) ||
		strings.Contains(p.Pathname, "//") || len(p.Pathname) > 1 && strings.HasSuffix(p.Pathname, "/") {
		t.Fatalf("bad Pathname %q", p.Pathname)
	}
	for _, v := range []string{p.UTMSource, p.UTMMedium, p.UTMCampaign, p.UTMContent, p.UTMTerm} {
		if len(v) > MaxUTMLength || !utf8.ValidString(v) || v != strings.TrimSpace(v) {
			t.Fatalf("bad UTM value %q", v)
		}
	}
	if p.UTMSource != strings.ToLower(p.UTMSource) || p.UTMMedium != strings.ToLower(p.UTMMedium) {
		t.Fatalf("UTM source %q or medium %q not lower-case", p.UTMSource, p.UTMMedium)
	}
	if p.ClickID != "" && !isClickID(p.ClickID) {
		t.Fatalf("ClickID %q", p.ClickID)
	}
}

func isClickID(s string) bool {
	for _, id := range clickIDs {
		if s == id {
			return true
		}
	}
	return false
}

// FuzzParsePage checks, for any input: no panic; an error wraps
// ErrInvalidPage and comes with a zero Page; a Page passes checkPage; and
// re-assembling the Page into a URL and parsing that gives the same Page.
//
//	go test -run '^$' -fuzz FuzzParsePage -fuzztime 60s ./collector/enrich/
func FuzzParsePage(f *testing.F) {
	for _, tc := range pageCases {
		f.Add(tc.raw)
	}
	f.Add("https://example.com/%")
	f.Add("http://[::1]/a%2F%2F?utm_source=%FF")
	f.Add("https://a.b/\x00?UTM_MEDIUM=%C8%BA")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParsePage(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidPage) || p != (Page{}) {
				t.Fatalf("error %v with %+v", err, p)
			}
			return
		}
		checkPage(t, p)
		again, err := ParsePage(assemblePage(p))
		if err != nil {
			t.Fatalf("re-assembled %q: %v", assemblePage(p), err)
		}
		if again != p {
			t.Fatalf("round trip through %q\n got  %+v\n want %+v", assemblePage(p), again, p)
		}
	})
}

func TestUnescape(t *testing.T) {
	for _, tc := range []struct {
		in   string
		plus bool
		want string
	}{
		{"", false, ""},
		{"abc", false, "abc"},
		{"a+b", false, "a+b"},
		{"a+b", true, "a b"},
		{"%41%62", false, "Ab"},
		{"%", false, "%"},
		{"%4", false, "%4"},
		{"%zz%41", false, "%zzA"},
		{"100%", true, "100%"},
		{"%2B+", true, "+ "},
	} {
		if got := unescape(tc.in, tc.plus); got != tc.want {
			t.Errorf("unescape(%q, %v) = %q, want %q", tc.in, tc.plus, got, tc.want)
		}
	}
	// escapePath and unescape are inverses.
	for _, s := range []string{"/a b/%41/€/?#/+/\x00", "/:@!$&'()*+,;=-._~"} {
		if got := unescape(escapePath(s), false); got != s {
			t.Errorf("unescape(escapePath(%q)) = %q", s, got)
		}
	}
}

// BenchmarkParsePage parses a typical landing URL with campaign tags.
func BenchmarkParsePage(b *testing.B) {
	const raw = "https://www.example.com/blog/2024/how-we-count-visitors/?utm_source=newsletter&utm_medium=email&utm_campaign=may-2024&fbclid=IwAR3xyz"
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParsePage(raw)
		if err != nil || p.UTMSource != "newsletter" {
			b.Fatal(p, err)
		}
	}
}
