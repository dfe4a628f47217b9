package enrich

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
	"unsafe"
)

// newTestUAParser returns a parser shared by the tests of one test binary
// when cacheSize is 0; compiling uap-go's regexes takes ~0.1 s (more under
// -race), so tests that do not look at the cache share one.
func newTestUAParser(t testing.TB, cacheSize int) *UAParser {
	t.Helper()
	if cacheSize == 0 {
		sharedUAParserOnce.Do(func() { sharedUAParser, sharedUAParserErr = NewUAParser(0) })
		if sharedUAParserErr != nil {
			t.Fatal(sharedUAParserErr)
		}
		return sharedUAParser
	}
	p, err := NewUAParser(cacheSize)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var (
	sharedUAParserOnce sync.Once
	sharedUAParser     *UAParser
	sharedUAParserErr  error
)

const (
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	uaSafariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
	uaFirefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
	uaGooglebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
)

// garbageUA is 10 KiB of printable ASCII noise, the same on every run.
func garbageUA() string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 10<<10)
	for i := range b {
		b[i] = byte(' ' + r.IntN('~'-' '+1))
	}
	return string(b)
}

type uaCase struct {
	name, ua string
	want     UA
}

var uaCases = []uaCase{
	{"Chrome on Windows", uaChromeWindows,
		UA{Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows", OSVersion: "10", Device: DeviceDesktop}},
	{"Safari on iPhone", uaSafariIPhone,
		UA{Browser: "Mobile Safari", BrowserVersion: "17.4", OS: "iOS", OSVersion: "17.4", Device: DeviceMobile}},
	{"Safari on iPadOS, mobile site", "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		UA{Browser: "Mobile Safari", BrowserVersion: "17.5", OS: "iOS", OSVersion: "17.5", Device: DeviceTablet}},
	// Safari on macOS; Safari on iPadOS in its default desktop mode sends
	// exactly this too.
	{"Safari on macOS", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
		UA{Browser: "Safari", BrowserVersion: "17.4", OS: "Mac OS X", OSVersion: "10.15", Device: DeviceDesktop}},
	{"Firefox on Linux", uaFirefoxLinux,
		UA{Browser: "Firefox", BrowserVersion: "125.0", OS: "Linux", Device: DeviceDesktop}},
	{"Firefox on Ubuntu", "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		UA{Browser: "Firefox", BrowserVersion: "125.0", OS: "Ubuntu", Device: DeviceDesktop}},
	{"Edge on Windows", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.80",
		UA{Browser: "Edge", BrowserVersion: "124.0", OS: "Windows", OSVersion: "10", Device: DeviceDesktop}},
	{"Chrome on Chrome OS", "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		UA{Browser: "Chrome", BrowserVersion: "124.0", OS: "Chrome OS", OSVersion: "14541.0", Device: DeviceDesktop}},
	{"Samsung Internet on Android phone", "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
		UA{Browser: "Samsung Internet", BrowserVersion: "25.0", OS: "Android", OSVersion: "14", Device: DeviceMobile}},
	{"Samsung Internet on Android tablet", "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Safari/537.36",
		UA{Browser: "Samsung Internet", BrowserVersion: "24.0", OS: "Android", OSVersion: "13", Device: DeviceTablet}},
	{"Chrome on Android, reduced UA", "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
		UA{Browser: "Chrome Mobile", BrowserVersion: "124.0", OS: "Android", OSVersion: "10", Device: DeviceMobile}},
	{"Firefox on Android", "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
		UA{Browser: "Firefox Mobile", BrowserVersion: "125.0", OS: "Android", OSVersion: "14", Device: DeviceMobile}},
	{"Chrome on iPhone", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
		UA{Browser: "Chrome Mobile iOS", BrowserVersion: "124.0", OS: "iOS", OSVersion: "17.4", Device: DeviceMobile}},
	{"Googlebot", uaGooglebot,
		UA{Browser: "Googlebot", BrowserVersion: "2.1", OS: "Other", Device: DeviceBot, Bot: true}},
	{"Googlebot smartphone", "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.155 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		UA{Browser: "Googlebot", BrowserVersion: "2.1", OS: "Android", OSVersion: "6.0", Device: DeviceBot, Bot: true}},
	{"bingbot", "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
		UA{Browser: "bingbot", BrowserVersion: "2.0", OS: "Other", Device: DeviceBot, Bot: true}},
	{"GPTBot", "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; +https://openai.com/gptbot)",
		UA{Browser: "GPTBot", BrowserVersion: "1.0", OS: "Other", Device: DeviceBot, Bot: true}},
	{"curl", "curl/8.5.0",
		UA{Browser: "curl", BrowserVersion: "8.5", OS: "Other", Device: DeviceOther}},
	{"python-requests", "python-requests/2.31.0",
		UA{Browser: "Python Requests", BrowserVersion: "2.31", OS: "Other", Device: DeviceOther}},
	// Not a uap-go Spider: the abuse scorer flags headless browsers.
	{"HeadlessChrome", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.91 Safari/537.36",
		UA{Browser: "HeadlessChrome", BrowserVersion: "124.0", OS: "Linux", Device: DeviceDesktop}},
	{"Xbox", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Safari/537.36 Edge/44.18363.8131",
		UA{Browser: "Edge", BrowserVersion: "44.18363", OS: "Windows", OSVersion: "10", Device: DeviceOther}},
	{"Samsung smart TV", "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) 76.0.3809.146/6.0 TV Safari/537.36",
		UA{Browser: "Safari", OS: "Tizen", OSVersion: "6.0", Device: DeviceOther}},
	{"empty", "",
		UA{Browser: "Unknown", OS: "Unknown", Device: DeviceOther}},
	{"spaces only", " \t ",
		UA{Browser: "Unknown", OS: "Unknown", Device: DeviceOther}},
	{"10 KiB of garbage", garbageUA(),
		UA{Browser: "Other", OS: "Other", Device: DeviceOther}},
	{"invalid UTF-8", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome\xff\xfe/124.0.0.0",
		UA{Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows", OSVersion: "10", Device: DeviceDesktop}},
}

func TestUAParse(t *testing.T) {
	t.Parallel()
	p := newTestUAParser(t, 0)
	for _, tc := range uaCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Parse(tc.ua); got != tc.want {
				t.Errorf("Parse(%.80q)\n got  %+v\n want %+v", tc.ua, got, tc.want)
			}
			// The second call comes from the cache and must agree.
			if got := p.Parse(tc.ua); got != tc.want {
				t.Errorf("cached Parse(%.80q)\n got  %+v\n want %+v", tc.ua, got, tc.want)
			}
		})
	}
}

func TestNewUAParserCacheSize(t *testing.T) {
	t.Parallel()
	if p, err := NewUAParser(-1); err == nil || p != nil {
		t.Errorf("NewUAParser(-1) = %v, %v; want an error", p, err)
	}
	if p := newTestUAParser(t, 0); p.size != DefaultUACacheSize {
		t.Errorf("NewUAParser(0) cache size = %d, want %d", p.size, DefaultUACacheSize)
	}
}

func TestUAParseCacheHit(t *testing.T) {
	t.Parallel()
	p := newTestUAParser(t, 2)
	first := p.Parse(uaChromeWindows)
	if p.cache.Len() != 1 {
		t.Fatalf("cache holds %d entries after one Parse, want 1", p.cache.Len())
	}
	// Prove the second Parse reads the cache: swap in a value the parser
	// would never produce.
	marker := UA{Browser: "from cache"}
	p.cache.Add(uaChromeWindows, marker)
	if got := p.Parse(uaChromeWindows); got != marker {
		t.Errorf("second Parse = %+v, want the cached %+v", got, marker)
	}
	// Leading and trailing spaces do not make a new entry.
	if got := p.Parse("  " + uaChromeWindows + " "); got != marker {
		t.Errorf("Parse with spaces = %+v, want the cached %+v", got, marker)
	}
	p.cache.Add(uaChromeWindows, first)

	// The cache is bounded: a third UA evicts the least recently used.
	p.Parse(uaFirefoxLinux)
	p.Parse(uaChromeWindows) // now Firefox is the oldest
	p.Parse(uaGooglebot)
	if n := p.cache.Len(); n != 2 {
		t.Errorf("cache holds %d entries, want 2", n)
	}
	if p.cache.Contains(uaFirefoxLinux) || !p.cache.Contains(uaChromeWindows) || !p.cache.Contains(uaGooglebot) {
		t.Errorf("cache keys = %q, want Chrome and Googlebot", p.cache.Keys())
	}
	// Empty User-Agents are answered without touching the cache.
	p.Parse("")
	if p.cache.Contains("") {
		t.Error("empty User-Agent was cached")
	}
}

func TestUAParseTruncates(t *testing.T) {
	t.Parallel()
	p := newTestUAParser(t, 8)
	long := uaChromeWindows + " " + strings.Repeat("Extension/1.0 ", 100)
	got := p.Parse(long)
	want := UA{Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows", OSVersion: "10", Device: DeviceDesktop}
	if got != want {
		t.Errorf("Parse(long) = %+v, want %+v", got, want)
	}
	// A different string with the same first 512 bytes is the same entry.
	p.Parse(long[:MaxUALength] + "something else entirely")
	keys := p.cache.Keys()
	if len(keys) != 1 || keys[0] != long[:MaxUALength] {
		t.Fatalf("cache keys = %q, want the one 512-byte prefix", keys)
	}

	// A cut inside a multi-byte character backs up to its start.
	ua := strings.Repeat("a", MaxUALength-1) + "é" + strings.Repeat("b", 10) // é is 2 bytes, at 511..512
	if got := normalizeUA(ua); got != strings.Repeat("a", MaxUALength-1) {
		t.Errorf("normalizeUA cut %d bytes, valid UTF-8: %v", len(got), utf8.ValidString(got))
	}
}

// TestUAParseCopiesInput parses a string that aliases a buffer, as Fiber's
// c.Get returns, then reuses the buffer: the cache and the returned fields
// must not change.
func TestUAParseCopiesInput(t *testing.T) {
	t.Parallel()
	p := newTestUAParser(t, 8)
	buf := []byte(uaChromeWindows)
	aliased := unsafe.String(&buf[0], len(buf))
	got := p.Parse(aliased)

	other := strings.Replace(uaFirefoxLinux, "Firefox/125.0", "Firefox/999.9", 1)
	other += strings.Repeat(" ", len(buf)-len(other))
	copy(buf, other)

	want := UA{Browser: "Chrome", BrowserVersion: "124.0", OS: "Windows", OSVersion: "10", Device: DeviceDesktop}
	if got != want {
		t.Errorf("returned UA changed with the buffer: %+v, want %+v", got, want)
	}
	keys := p.cache.Keys()
	if len(keys) != 1 || keys[0] != uaChromeWindows {
		t.Errorf("cache key changed with the buffer: %q", keys)
	}
	if cached, _ := p.cache.Peek(uaChromeWindows); cached != want {
		t.Errorf("cached UA changed with the buffer: %+v, want %+v", cached, want)
	}
}

// TestUAParseConcurrent parses from several goroutines through a cache too
// small for the working set, so hits, misses and evictions interleave. Run
// with -race.
func TestUAParseConcurrent(t *testing.T) {
	t.Parallel()
	p := newTestUAParser(t, 3)
	cases := uaCases[:5]
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 25 {
				tc := cases[(g*3+i*i)%len(cases)]
				if got := p.Parse(tc.ua); got != tc.want {
					t.Errorf("%s: Parse = %+v, want %+v", tc.name, got, tc.want)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := p.cache.Len(); n > 3 {
		t.Errorf("cache holds %d entries, want at most 3", n)
	}
}

// FuzzUAParse checks, for any input: no panic; Device is one of the five
// classes and is "bot" exactly when Bot is set; every field is valid UTF-8
// and bounded; Browser and OS are never empty; normalizeUA is idempotent
// and bounded; a cached answer equals the first; only the normalised first
// MaxUALength bytes matter.
//
// A miss runs ~1,000 regexes, slower still with coverage instrumentation,
// so keep minimisation short:
//
//	go test -run '^$' -fuzz FuzzUAParse -fuzztime 60s -fuzzminimizetime 2s ./collector/enrich/
func FuzzUAParse(f *testing.F) {
	for _, tc := range uaCases[:len(uaCases)-2] {
		f.Add(tc.ua)
	}
	f.Add("Mozilla/5.0 (Linux; Android 14) \xff")
	p := newTestUAParser(f, 64)
	f.Fuzz(func(t *testing.T, ua string) {
		got := p.Parse(ua)
		switch got.Device {
		case DeviceDesktop, DeviceMobile, DeviceTablet, DeviceOther, DeviceBot:
		default:
			t.Fatalf("Device %q", got.Device)
		}
		if got.Bot != (got.Device == DeviceBot) {
			t.Fatalf("Bot %v with Device %q", got.Bot, got.Device)
		}
		if got.Browser == "" || got.OS == "" {
			t.Fatalf("empty family: %+v", got)
		}
		for _, s := range []string{got.Browser, got.OS} {
			if len(s) > maxNameLen || !utf8.ValidString(s) {
				t.Fatalf("bad family %q", s)
			}
		}
		for _, s := range []string{got.BrowserVersion, got.OSVersion} {
			if len(s) > maxVersionLen || !utf8.ValidString(s) {
				t.Fatalf("bad version %q", s)
			}
		}
		if again := p.Parse(ua); again != got {
			t.Fatalf("second Parse = %+v, first %+v", again, got)
		}
		n := normalizeUA(ua)
		if len(n) > MaxUALength || !utf8.ValidString(n) || normalizeUA(n) != n {
			t.Fatalf("normalizeUA gave %q: %d bytes, valid UTF-8 %v, idempotent %v", n, len(n), utf8.ValidString(n), normalizeUA(n) == n)
		}
		if norm := p.Parse(normalizeUA(ua)); norm != got {
			t.Fatalf("Parse(normalizeUA(ua)) = %+v, Parse(ua) = %+v", norm, got)
		}
		if trimmed := strings.TrimSpace(ua); len(trimmed) > MaxUALength+utf8.UTFMax {
			if tail := p.Parse(trimmed[:MaxUALength+utf8.UTFMax] + "tail"); tail != got {
				t.Fatalf("Parse depends on bytes past %d: %+v vs %+v", MaxUALength, tail, got)
			}
		}
	})
}

func BenchmarkUAParseCacheHit(b *testing.B) {
	p := newTestUAParser(b, DefaultUACacheSize)
	want := p.Parse(uaChromeWindows)
	b.ReportAllocs()
	for b.Loop() {
		if got := p.Parse(uaChromeWindows); got != want {
			b.Fatal(got)
		}
	}
}

// BenchmarkUAParseMiss parses a User-Agent that was never seen: the Chrome
// build number changes every iteration, so neither our cache nor uap-go's
// can answer. Building the string costs one allocation of the reported.
func BenchmarkUAParseMiss(b *testing.B) {
	p := newTestUAParser(b, DefaultUACacheSize)
	const prefix = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0."
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		ua := prefix + strconv.Itoa(n) + ".0 Safari/537.36"
		if got := p.Parse(ua); got.Browser != "Chrome" {
			b.Fatal(got)
		}
	}
	if p.cache.Len() != min(n, DefaultUACacheSize) {
		b.Fatalf("cache holds %d entries after %d distinct misses", p.cache.Len(), n)
	}
}
