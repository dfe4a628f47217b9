package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxURLLength is the longest page URL ParsePage accepts, in bytes, and
	// how much of a referrer ClassifyReferrer reads.
	MaxURLLength = 8 << 10
	// MaxPathLength bounds Page.Pathname and Referrer.URL, in bytes.
	MaxPathLength = 2048
	// MaxUTMLength bounds each UTM field of a Page, in bytes.
	MaxUTMLength = 256
	// maxHostLength is the longest DNS name (RFC 1035), without the
	// trailing dot.
	maxHostLength = 253
)

// ErrInvalidPage is wrapped by every error ParsePage returns. The messages
// say what is wrong and never repeat the URL: it is visitor input and may
// hold personal data.
var ErrInvalidPage = errors.New("enrich: invalid page url")

// Click-id query parameters that ad networks append to landing URLs. The
// values identify one ad click; only the parameter's name is kept.
const (
	ClickGoogle         = "gclid"     // Google Ads
	ClickFacebook       = "fbclid"    // Facebook and Instagram, on every outbound link, not only ads
	ClickMicrosoft      = "msclkid"   // Microsoft (Bing) Ads
	ClickTikTok         = "ttclid"    // TikTok Ads
	ClickTwitter        = "twclid"    // X (Twitter) Ads
	ClickLinkedIn       = "li_fat_id" // LinkedIn Ads
	ClickDoubleClick    = "dclid"     // Google Display & Video 360, Campaign Manager
	ClickGoogleWebApp   = "wbraid"    // Google Ads, iOS web-to-app
	ClickGoogleAppToWeb = "gbraid"    // Google Ads, iOS app-to-web
)

// clickIDs is the order in which click ids are looked for: when a URL
// carries several, the first of this list that is present wins, whatever
// the order of the query.
var clickIDs = [...]string{
	ClickGoogle, ClickFacebook, ClickMicrosoft, ClickTikTok, ClickTwitter,
	ClickLinkedIn, ClickDoubleClick, ClickGoogleWebApp, ClickGoogleAppToWeb,
}

// Page is a page URL as stored.
type Page struct {
	// Hostname is the host, lower-case ASCII, without port, user info or
	// trailing dot; "www." is kept. An IPv6 address has no brackets.
	Hostname string
	// Pathname is the path, percent-decoded once, without query or
	// fragment, with runs of "/" collapsed, without a trailing "/" (except
	// the root, "/"), without invalid UTF-8 or control characters, cut to
	// MaxPathLength bytes at a character boundary. Dot segments are kept:
	// browsers resolve them before the snippet reads location.href.
	Pathname string
	// UTMSource is utm_source, or else ref, or else source (the
	// fallbacks Plausible accepts), lower-case. Like all UTM fields it is
	// decoded, trimmed, stripped of control characters and invalid UTF-8
	// and cut to MaxUTMLength bytes; "" when absent.
	UTMSource string
	// UTMMedium is utm_medium, lower-case.
	UTMMedium string
	// UTMCampaign, UTMContent and UTMTerm are utm_campaign, utm_content and
	// utm_term, case kept.
	UTMCampaign, UTMContent, UTMTerm string
	// ClickID names the ad click id present in the query with a non-empty
	// value (one of the Click* constants, "" for none). The value itself
	// identifies a click, so it is never kept.
	ClickID string
}

// ParsePage parses the page URL the snippet sends (location.href). Only
// absolute http and https URLs of at most MaxURLLength bytes (after
// trimming spaces) are accepted, with a host of letters, digits, '-', '_'
// and '.', or an IP address. Query parameter names are matched without
// regard to case; the first non-empty occurrence of a name counts. Malformed
// percent-escapes are kept as they are rather than rejecting the page view:
// browsers do not check them either.
//
// raw may alias a reused request buffer: the Page never does.
func ParsePage(raw string) (Page, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return Page{}, fmt.Errorf("%w: empty", ErrInvalidPage)
	}
	if len(raw) > MaxURLLength {
		return Page{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidPage, MaxURLLength)
	}
	u, err := splitURL(raw)
	if err != nil {
		return Page{}, fmt.Errorf("%w: %w", ErrInvalidPage, err)
	}
	if u.scheme != "http" && u.scheme != "https" {
		return Page{}, fmt.Errorf("%w: scheme is not http or https", ErrInvalidPage)
	}
	host, err := parseAuthority(u.authority)
	if err != nil {
		return Page{}, fmt.Errorf("%w: %w", ErrInvalidPage, err)
	}
	// One allocation for both, so that neither aliases raw nor pins it.
	path := cleanPath(u.path)
	hp := host + path
	p := Page{Hostname: hp[:len(host)], Pathname: hp[len(host):]}
	parseCampaign(u.query, &p)
	return p, nil
}

// rawURL is a URL cut into its parts, still escaped.
type rawURL struct {
	scheme    string // lower-case
	authority string // between "//" and the path, may hold user info and port
	path      string // "", or starts with '/' or a backslash
	query     string // without "?"
}

var (
	errNotAbsolute = errors.New("not an absolute url")
	errNoHost      = errors.New("no host")
	errBadHost     = errors.New("invalid host")
	errLongHost    = fmt.Errorf("host longer than %d bytes", maxHostLength)
	errBadPort     = errors.New("invalid port")
)

// splitURL cuts scheme://authority/path?query#fragment into its parts; the
// fragment is dropped. It needs the "//": "mailto:x" and "https:x" are not
// absolute URLs with a host.
func splitURL(s string) (rawURL, error) {
	var u rawURL
	i := strings.IndexByte(s, ':')
	if i <= 0 || !strings.HasPrefix(s[i+1:], "//") {
		return u, errNotAbsolute
	}
	for j := range i {
		c := s[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
			j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return u, errNotAbsolute
		}
	}
	u.scheme = strings.ToLower(s[:i])
	s = s[i+3:]
	if j := strings.IndexByte(s, '#'); j >= 0 {
		s = s[:j]
	}
	if j := strings.IndexByte(s, '?'); j >= 0 {
		s, u.query = s[:j], s[j+1:]
	}
	// Browsers (the WHATWG URL standard) end the host at a backslash
	// too, for http and https: https://evil.com\@good.com/ is evil.com.
	if j := strings.IndexAny(s, `/\`); j >= 0 {
		s, u.path = s[:j], s[j:]
	}
	u.authority = s
	return u, nil
}

// parseAuthority returns the host of [userinfo@]host[:port], lower-case and
// without a trailing dot. The host must be a DNS name of ASCII letters,
// digits, '-' and '_' in non-empty dot-separated labels (an IPv4 address is
// one), or an IPv6 address in brackets, without zone. Browsers send
// internationalised names in their xn-- form; percent-escapes and other
// characters are refused.
func parseAuthority(a string) (string, error) {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		a = a[i+1:]
	}
	var host, port string
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", errBadHost
		}
		host, port = a[1:end], a[end+1:]
		if port != "" && port[0] != ':' {
			return "", errBadHost
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", errBadHost
		}
		host = addr.String()
	} else {
		host = a
		if i := strings.LastIndexByte(a, ':'); i >= 0 {
			host, port = a[:i], a[i:]
		}
		host = strings.TrimSuffix(host, ".")
		if host == "" {
			return "", errNoHost
		}
		if len(host) > maxHostLength {
			return "", errLongHost
		}
		if !validHostname(host) {
			return "", errBadHost
		}
		host = strings.ToLower(host)
	}
	if port != "" {
		for _, c := range []byte(port[1:]) {
			if c < '0' || c > '9' {
				return "", errBadPort
			}
		}
	}
	return host, nil
}

// validHostname reports whether h is dot-separated non-empty labels of
// ASCII letters, digits, '-' and '_'.
func validHostname(h string) bool {
	label := 0
	for _, c := range []byte(h) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
			label++
		case c == '.' && label > 0:
			label = 0
		default:
			return false
		}
	}
	return label > 0
}

// cleanPath turns an escaped path into Page.Pathname form; see there. It is
// idempotent on its own output re-escaped.
func cleanPath(p string) string {
	p = cleanText(unescape(p, false))
	if strings.HasPrefix(p, "/") && !strings.Contains(p, "//") && len(p) <= MaxPathLength {
		return trimSlash(p) // the common case: nothing to collapse or cut
	}
	var b strings.Builder
	b.Grow(min(len(p), MaxPathLength) + 1)
	b.WriteByte('/')
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte('/')
		}
		b.WriteString(seg)
		if b.Len() >= MaxPathLength {
			break
		}
	}
	return trimSlash(clip(b.String(), MaxPathLength))
}

// trimSlash removes a trailing "/" from a path, except from the root.
func trimSlash(p string) string {
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	if p == "" {
		return "/"
	}
	return p
}

// parseCampaign fills the UTM fields and ClickID of p from an escaped
// query. It scans the query once and allocates only for the values it
// keeps.
func parseCampaign(query string, p *Page) {
	var ref, source string
	click := len(clickIDs) // index into clickIDs of the best click id so far
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		key, value, _ := strings.Cut(pair, "=")
		if key == "" {
			continue
		}
		if strings.IndexByte(key, '%') >= 0 || strings.IndexByte(key, '+') >= 0 {
			key = unescape(key, true)
		}
		var dst *string
		lower := false
		switch {
		case strings.EqualFold(key, "utm_source"):
			dst, lower = &p.UTMSource, true
		case strings.EqualFold(key, "utm_medium"):
			dst, lower = &p.UTMMedium, true
		case strings.EqualFold(key, "utm_campaign"):
			dst = &p.UTMCampaign
		case strings.EqualFold(key, "utm_content"):
			dst = &p.UTMContent
		case strings.EqualFold(key, "utm_term"):
			dst = &p.UTMTerm
		case strings.EqualFold(key, "ref"):
			dst, lower = &ref, true
		case strings.EqualFold(key, "source"):
			dst, lower = &source, true
		default:
			for i, id := range clickIDs[:click] {
				if strings.EqualFold(key, id) && strings.TrimSpace(unescape(value, true)) != "" {
					click = i
					break
				}
			}
			continue
		}
		if *dst == "" {
			*dst = strings.Clone(cleanUTM(unescape(value, true), lower))
		}
	}
	if p.UTMSource == "" {
		p.UTMSource = ref
	}
	if p.UTMSource == "" {
		p.UTMSource = source
	}
	if click < len(clickIDs) {
		p.ClickID = clickIDs[click]
	}
}

// cleanUTM normalises a decoded UTM value: control characters and invalid
// UTF-8 dropped, spaces trimmed, lower-cased if asked, cut to MaxUTMLength
// bytes at a character boundary. It is idempotent.
func cleanUTM(v string, lower bool) string {
	v = strings.TrimSpace(cleanText(v))
	if lower {
		// unicode.ToLower is idempotent rune by rune, so this is too; it
		// may lengthen the string, so it comes before the cut.
		v = strings.ToLower(v)
	}
	// The cut may expose spaces.
	return strings.TrimSpace(clip(v, MaxUTMLength))
}

// cleanText drops invalid UTF-8 and control characters (C0, DEL, C1): the
// result is stored in ClickHouse and shown in the dashboard. U+FFFD goes
// too, being what invalid bytes decode to. It does not allocate when s is
// printable ASCII.
func cleanText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
}

// unescape decodes %XX escapes, and '+' as a space when plus is set (query
// strings). Unlike url.PathUnescape it never fails: a '%' not followed by
// two hex digits stays as it is, as browsers leave it.
func unescape(s string, plus bool) string {
	n := strings.IndexByte(s, '%')
	if plus {
		if i := strings.IndexByte(s, '+'); i >= 0 && (n < 0 || i < n) {
			n = i
		}
	}
	if n < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:n]...)
	for i := n; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && plus:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// escapePath percent-encodes a decoded path so that unescape gives it back:
// every byte but RFC 3986's unreserved characters, sub-delimiters, ':', '@'
// and '/' is escaped, '%' included.
func escapePath(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if !pathSafe(p[i]) {
			n++
		}
	}
	if n == 0 {
		return p
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		if c := p[i]; pathSafe(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// escapedLen is len(escapePath(string(r))).
func escapedLen(r rune) int {
	if r < utf8.RuneSelf && pathSafe(byte(r)) {
		return 1
	}
	return 3 * utf8.RuneLen(r)
}

func pathSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	default:
		return c - '0'
	}
}
