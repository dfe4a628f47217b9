package enrich

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ua-parser/uap-go/uaparser"
)

// Device classes stored in the events' device column.
const (
	DeviceDesktop = "desktop"
	DeviceMobile  = "mobile"
	DeviceTablet  = "tablet"
	DeviceBot     = "bot"
	DeviceOther   = "other"
)

const (
	// DefaultUACacheSize is the number of parsed User-Agents kept when
	// NewUAParser is given 0.
	DefaultUACacheSize = 10_000
	// MaxUALength is how many bytes of a User-Agent are parsed and cached;
	// the rest is dropped. Real browsers send 100–300 bytes.
	MaxUALength = 512

	// unknown is Browser and OS when the request sent no User-Agent at all.
	// A User-Agent that uap-go does not recognise gives its own "Other".
	unknown = "Unknown"
	// maxNameLen and maxVersionLen bound the stored strings: uap-go copies
	// parts of the User-Agent into family names and versions, and those
	// parts are attacker-chosen.
	maxNameLen    = 64
	maxVersionLen = 16
)

// UA is what the events table stores about a User-Agent.
type UA struct {
	// Browser is uap-go's user-agent family ("Chrome", "Mobile Safari",
	// "Googlebot", "curl"), "Other" when unrecognised, "Unknown" when the
	// request had no User-Agent.
	Browser string
	// BrowserVersion is "major.minor", or "major" when there is no minor
	// version, or "" when there is none: patch levels would only add
	// cardinality.
	BrowserVersion string
	// OS is uap-go's OS family ("Windows", "Mac OS X", "iOS", "Android",
	// "Linux"), "Other" when unrecognised, "Unknown" with no User-Agent.
	OS string
	// OSVersion is "major.minor", "major" or "", as BrowserVersion.
	OSVersion string
	// Device is one of DeviceDesktop, DeviceMobile, DeviceTablet, DeviceBot
	// and DeviceOther; see deviceClass for the rules.
	Device string
	// Bot is true when uap-go's device family is "Spider" (search engines,
	// crawlers, link previewers). The abuse scorer adds its own lists.
	Bot bool
}

// UAParser parses User-Agent strings with uap-go's embedded regexes behind a
// bounded LRU cache keyed by the (truncated) User-Agent. It is safe for
// concurrent use.
type UAParser struct {
	uap   *uaparser.Parser
	cache *lru.Cache[string, UA]
	size  int // the cache's capacity
}

// NewUAParser compiles uap-go's embedded definitions (no files are read) and
// returns a parser that caches up to cacheSize results; 0 means
// DefaultUACacheSize. Compiling takes a noticeable fraction of a second, so
// build one parser at startup and share it.
func NewUAParser(cacheSize int) (*UAParser, error) {
	if cacheSize < 0 {
		return nil, fmt.Errorf("enrich: ua cache size %d: must not be negative", cacheSize)
	}
	if cacheSize == 0 {
		cacheSize = DefaultUACacheSize
	}
	cache, err := lru.New[string, UA](cacheSize)
	if err != nil {
		return nil, fmt.Errorf("enrich: ua cache: %w", err)
	}
	uap, err := newUAP()
	if err != nil {
		return nil, fmt.Errorf("enrich: ua parser: %w", err)
	}
	return &UAParser{uap: uap, cache: cache, size: cacheSize}, nil
}

// newUAP builds uap-go's parser. uaparser.New uses the regexes compiled
// into uap-go (its DefinitionYaml variable); NewFromSaved is the deprecated
// spelling of the same thing. uap-go also keeps three ARC caches of its own;
// ours sits in front of them and stores the final UA, so theirs get the
// smallest size they accept (0 panics).
func newUAP() (p *uaparser.Parser, err error) {
	// uap-go panics, rather than returning an error, when a built-in regex
	// does not compile; turn that into an error for the caller.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%v", r)
		}
	}()
	p, err = uaparser.New(uaparser.WithCacheSize(1))
	if err == nil && p == nil {
		err = errors.New("no parser")
	}
	return p, err
}

// Parse returns the enrichment fields of one User-Agent. Strings longer than
// MaxUALength bytes are cut (at a character boundary) before parsing and
// caching, and invalid UTF-8 is dropped. ua may alias a reused request
// buffer (Fiber's c.Get): everything kept is copied.
func (p *UAParser) Parse(ua string) UA {
	ua = normalizeUA(ua)
	if ua == "" {
		return UA{Browser: unknown, OS: unknown, Device: DeviceOther}
	}
	if v, ok := p.cache.Get(ua); ok {
		return v
	}
	// A miss: copy first, so the cache key and the substrings uap-go
	// returns (families and versions are slices of its input) never point
	// into a buffer the caller reuses.
	ua = strings.Clone(ua)
	v := p.parse(ua)
	p.cache.Add(ua, v)
	return v
}

// parse runs uap-go on a miss. The three parsers are called one after the
// other: uaparser.Parser.Parse would start three goroutines per call, which
// buys latency on an idle machine and costs throughput on a busy collector.
func (p *UAParser) parse(ua string) UA {
	agent := p.uap.ParseUserAgent(ua)
	osys := p.uap.ParseOs(ua)
	device := p.uap.ParseDevice(ua)
	bot := device.Family == "Spider"
	return UA{
		Browser:        clip(agent.Family, maxNameLen),
		BrowserVersion: clip(version(agent.Major, agent.Minor), maxVersionLen),
		OS:             clip(osys.Family, maxNameLen),
		OSVersion:      clip(version(osys.Major, osys.Minor), maxVersionLen),
		Device:         deviceClass(ua, osys.Family, device.Family, bot),
		Bot:            bot,
	}
}

// normalizeUA trims spaces, cuts ua to MaxUALength bytes without splitting a
// character, and drops invalid UTF-8 (the result is stored in ClickHouse
// and shown in HTML). It is idempotent, and for well-formed input it does
// not allocate.
func normalizeUA(ua string) string {
	ua = strings.TrimSpace(ua)
	if len(ua) > MaxUALength {
		cut := MaxUALength
		// Back up to the start of the character at the cut; give up after
		// utf8.UTFMax bytes (invalid input), ToValidUTF8 cleans up then.
		for i := 0; i < utf8.UTFMax && cut > 0 && !utf8.RuneStart(ua[cut]); i++ {
			cut--
		}
		ua = ua[:cut]
	}
	if !utf8.ValidString(ua) {
		ua = strings.ToValidUTF8(ua, "")
	}
	// Again: the cut or the dropped bytes may have exposed spaces.
	return strings.TrimSpace(ua)
}

// version renders "major.minor", "major" or "".
func version(major, minor string) string {
	switch {
	case major == "":
		return ""
	case minor == "":
		return major
	default:
		return major + "." + minor
	}
}

// clip cuts s to at most n bytes at a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Device class rules, in order (the first that matches wins):
//
//  1. bot: uap-go's device family is "Spider".
//  2. other: a TV, set-top box or console (tvTokens), before the rules
//     below mistake an Android TV for a tablet or an Xbox for Windows.
//  3. tablet: uap-go's device family is "iPad" or "Kindle", the UA names a
//     tablet (tabletTokens), or the OS is Android and the UA has no "Mobi":
//     Android browsers send "Mobile" on phones and omit it on tablets.
//  4. mobile: uap-go's device family is "iPhone" or "iPod", the OS is a
//     phone OS (mobileOS), or the UA contains "Mobi" (the token MDN
//     recommends: "Mobile", "Opera Mobi", "IEMobile").
//  5. desktop: the OS is a desktop OS (desktopOS: Windows, macOS, Linux
//     distributions, Chrome OS, the BSDs). HeadlessChrome lands here: it
//     is not a uap-go "Spider", the abuse scorer deals with it.
//  6. other: everything else: tools (curl, python-requests), unknown OS,
//     garbage.
//
// Since iPadOS 13, Safari on an iPad asks for desktop sites by default and
// sends the same User-Agent as Safari on a Mac; such visits count as
// desktop. Only an iPad that says "iPad" (the mobile-site setting, most
// in-app browsers, older iPadOS) is a tablet.
func deviceClass(ua, osFamily, deviceFamily string, bot bool) string {
	switch {
	case bot:
		return DeviceBot
	case containsAny(ua, tvTokens):
		return DeviceOther
	case deviceFamily == "iPad" || deviceFamily == "Kindle" || containsAny(ua, tabletTokens),
		osFamily == "Android" && !strings.Contains(ua, "Mobi"):
		return DeviceTablet
	case deviceFamily == "iPhone" || deviceFamily == "iPod" || mobileOS[osFamily] || strings.Contains(ua, "Mobi"):
		return DeviceMobile
	case desktopOS[osFamily]:
		return DeviceDesktop
	default:
		return DeviceOther
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// These tables are read-only after package initialisation.
var (
	tvTokens = []string{
		"SMART-TV", "SmartTV", "Smart-TV", "SMARTTV", "GoogleTV", "Android TV", "AndroidTV",
		"AppleTV", "CrKey", "Web0S", "WebOS TV", "HbbTV", "BRAVIA", "Roku", "Xbox", "PlayStation", "Nintendo",
	}
	tabletTokens = []string{"iPad", "Tablet", "Kindle", "Silk/", "PlayBook"}
	mobileOS     = map[string]bool{
		"iOS": true, "Android": true, "Windows Phone": true, "Windows Mobile": true, "BlackBerry OS": true,
		"KaiOS": true, "Firefox OS": true, "Symbian OS": true, "Symbian^3": true, "Symbian^3 Anna": true, "Symbian^3 Belle": true, "Nokia Series 40": true, "HarmonyOS": true,
		"Tizen": true, "Sailfish": true, "Ubuntu Touch": true, "webOS": true,
	}
	desktopOS = map[string]bool{
		"Windows": true, "Mac OS X": true, "Mac OS": true, "Linux": true, "Ubuntu": true, "Debian": true,
		"Fedora": true, "Red Hat": true, "CentOS": true, "Mint": true, "Arch Linux": true, "openSUSE": true,
		"SUSE": true, "Gentoo": true, "Kubuntu": true, "Mandriva": true, "Slackware": true, "Chrome OS": true,
		"FreeBSD": true, "OpenBSD": true, "NetBSD": true, "Solaris": true,
	}
)
