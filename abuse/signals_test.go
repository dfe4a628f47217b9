package abuse

import (
	"strings"
	"testing"
	"time"
)

const (
	chromeWin    = `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`
	chromeMac    = `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`
	chromeLinux  = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`
	chromeCrOS   = `Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`
	chromeDroid  = `Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36`
	firefoxWin   = `Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0`
	firefoxOld   = `Mozilla/5.0 (Windows NT 6.1; rv:78.0) Gecko/20100101 Firefox/78.0`
	safariMac    = `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15`
	safariOld    = `Mozilla/5.0 (iPhone; CPU iPhone OS 15_8 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Mobile/15E148 Safari/604.1`
	criOS        = `Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1`
	headlessLinx = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36`
)

func TestNonBrowserUA(t *testing.T) {
	for _, ua := range []string{"", "curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "Wget/1.21.4", "okhttp/4.12.0",
		"axios/1.7.2", "Java/17.0.2", "Mozilla/4.0 (compatible; MSIE 6.0)", "Mozilla/5.0", "Mozilla/5.0 (Windows NT 10.0) Chrome/131\x00",
		"Mozilla/5.0 (Windows NT 10.0) Chrome/131 é", "Mozilla/5.0 (X11) " + strings.Repeat("x", 2000)} {
		if !NonBrowserUA(ua) {
			t.Errorf("NonBrowserUA(%.60q) = false, want true", ua)
		}
	}
	for _, ua := range []string{chromeWin, firefoxWin, safariMac, criOS, chromeDroid, headlessLinx} {
		if NonBrowserUA(ua) {
			t.Errorf("NonBrowserUA(%q) = true, want false", ua)
		}
	}
}

func TestHTTPLibraryUA(t *testing.T) {
	for _, ua := range []string{"curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1", "okhttp/4.12.0", "Dalvik/2.1.0 (Linux; U; Android 13)",
		"MyApp/1 CFNetwork/1494.0.7 Darwin/23.4.0", "Dart/3.3 (dart:io)", "Mozilla/5.0 (linux) AppleWebKit/537.36 (KHTML, like Gecko) jsdom/24.0.0"} {
		if !HTTPLibraryUA(ua) {
			t.Errorf("HTTPLibraryUA(%q) = false", ua)
		}
	}
	for _, ua := range []string{chromeWin, firefoxWin, safariMac, criOS, chromeDroid, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"} {
		if HTTPLibraryUA(ua) {
			t.Errorf("HTTPLibraryUA(%q) = true", ua)
		}
	}
}

func TestHeadlessUA(t *testing.T) {
	if !HeadlessUA(headlessLinx) || !HeadlessUA("Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/534.34 (KHTML, like Gecko) PhantomJS/1.9.8 Safari/534.34") {
		t.Error("HeadlessChrome / PhantomJS not seen")
	}
	if HeadlessUA(chromeLinux) {
		t.Error("plain Chrome seen as headless")
	}
}

func TestPrefetch(t *testing.T) {
	cases := []struct {
		secPurpose, purpose, xMoz string
		want                      bool
	}{
		{"prefetch", "", "", true},
		{"prefetch;prerender", "", "", true},
		{"", "prefetch", "", true},
		{"", "", "prefetch", true},
		{"", "", "", false},
		{"", "preview", "", false},
	}
	for _, c := range cases {
		if got := Prefetch(c.secPurpose, c.purpose, c.xMoz); got != c.want {
			t.Errorf("Prefetch(%q, %q, %q) = %v", c.secPurpose, c.purpose, c.xMoz, got)
		}
	}
}

func TestReferrerSpam(t *testing.T) {
	for _, h := range []string{"semalt.com", "www.semalt.com", "x.y.darodar.com", "SEMALT.COM", "semalt.com."} {
		if !ReferrerSpam(h) {
			t.Errorf("ReferrerSpam(%q) = false", h)
		}
	}
	for _, h := range []string{"", "google.com", "notsemalt.com", "semalt.com.example.org", "com"} {
		if ReferrerSpam(h) {
			t.Errorf("ReferrerSpam(%q) = true", h)
		}
	}
}

func TestImpossibleWindow(t *testing.T) {
	cases := []struct {
		win  []int
		want bool
	}{
		{[]int{800, 600, 0, 0}, true},        // old headless: no outer window
		{[]int{1280, 720, 1280, 800}, false}, // a window with its toolbars
		{[]int{1600, 900, 1280, 800}, false}, // zoomed out: inner > outer is real
		{[]int{0, 0, 0, 0}, false},           // a hidden iframe reports zeros everywhere
		{[]int{800, 600, 0}, false},          // malformed says nothing
		{nil, false},
	}
	for _, c := range cases {
		if got := ImpossibleWindow(c.win); got != c.want {
			t.Errorf("ImpossibleWindow(%v) = %v", c.win, got)
		}
	}
}

func TestPermissionMismatch(t *testing.T) {
	if !PermissionMismatch("promptdenied") {
		t.Error("prompt + denied not seen")
	}
	for _, p := range []string{"", "promptdefault", "grantedgranted", "denieddenied"} {
		if PermissionMismatch(p) {
			t.Errorf("PermissionMismatch(%q) = true", p)
		}
	}
}

func TestPlatformMismatch(t *testing.T) {
	cases := []struct {
		ua, hint string
		want     bool
	}{
		{chromeWin, `"Windows"`, false},
		{chromeMac, `"macOS"`, false},
		{chromeLinux, `"Linux"`, false},
		{chromeCrOS, `"Chrome OS"`, false},
		{chromeDroid, `"Android"`, false},
		{chromeLinux, `"Android"`, false}, // Android tablet in desktop mode
		{chromeWin, `"Linux"`, true},      // a Linux server claiming Windows
		{chromeMac, `"Windows"`, true},
		{chromeDroid, `"Windows"`, true},
		{chromeWin, ``, false},
		{chromeWin, `"Unknown"`, false},
		{"Mozilla/5.0 (compatible; Foo)", `"Windows"`, false},
	}
	for _, c := range cases {
		if got := PlatformMismatch(c.ua, c.hint); got != c.want {
			t.Errorf("PlatformMismatch(%.40q, %s) = %v", c.ua, c.hint, got)
		}
	}
}

func TestMissingFetchMetadata(t *testing.T) {
	for _, ua := range []string{chromeWin, firefoxWin, safariMac, headlessLinx} {
		if !MissingFetchMetadata(ua, "") {
			t.Errorf("MissingFetchMetadata(%.50q, none) = false", ua)
		}
		if MissingFetchMetadata(ua, "cors") {
			t.Errorf("MissingFetchMetadata(%.50q, cors) = true", ua)
		}
	}
	// Versions from before the headers, and browsers we cannot date.
	for _, ua := range []string{firefoxOld, safariOld, criOS, "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.77 Safari/537.36"} {
		if MissingFetchMetadata(ua, "") {
			t.Errorf("MissingFetchMetadata(%.50q, none) = true", ua)
		}
	}
}

func TestMissingAcceptLanguage(t *testing.T) {
	if !MissingAcceptLanguage("") || !MissingAcceptLanguage("  ") || MissingAcceptLanguage("en-US,en;q=0.9") {
		t.Error("MissingAcceptLanguage wrong")
	}
}

func TestTimezoneMismatch(t *testing.T) {
	winter := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	summer := time.Date(2026, 7, 15, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		tz, country string
		at          time.Time
		want        bool
	}{
		{"Europe/Berlin", "DE", winter, false},
		{"Europe/Paris", "BE", winter, false},  // a neighbour's zone: same offset
		{"Europe/London", "DE", summer, false}, // one hour off
		{"America/New_York", "US", winter, false},
		{"America/Los_Angeles", "US", summer, false}, // one of many US zones
		{"Asia/Calcutta", "IN", winter, false},       // the old name Chromium still reports
		{"Asia/Shanghai", "US", winter, true},        // a machine in China behind a US address
		{"America/New_York", "DE", winter, true},
		{"Asia/Tokyo", "GB", summer, true},
		{"UTC", "US", winter, false},              // says nothing
		{"Etc/GMT+5", "DE", winter, false},        // says nothing
		{"Not/AZone", "DE", winter, false},        // unknown
		{"Europe/Berlin", "", winter, false},      // no country
		{"../../etc/passwd", "DE", winter, false}, // never a file path
	}
	for _, c := range cases {
		if got := TimezoneMismatch(c.tz, c.country, c.at); got != c.want {
			t.Errorf("TimezoneMismatch(%q, %q, %s) = %v", c.tz, c.country, c.at.Format("Jan"), got)
		}
	}
	if len(countryZones["US"]) < 20 || len(countryZones["DE"]) != 2 {
		t.Errorf("zone table: US %v, DE %v", countryZones["US"], countryZones["DE"])
	}
}

func BenchmarkTimezoneMismatch(b *testing.B) {
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		TimezoneMismatch("America/New_York", "US", at)
	}
}
