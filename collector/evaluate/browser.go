package evaluate

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/verityhq/verity/collector/pageload"
)

// What a browser sends: the headers of the snippet's cross-site fetch and
// the snippet's signal blob, modelled from the User-Agent and the corpus's
// profile. The model is the harness's, written from the browsers' documented
// behaviour, never from the scorer: a scorer rule that contradicts it shows
// up as false positives, which is what the evaluation is for.

// browserInfo is what the model needs to know about a User-Agent.
type browserInfo struct {
	chromium   int    // Chromium major version, 0 when not Chromium (iOS browsers are WebKit)
	brand      string // the Sec-CH-UA brand beside "Chromium"
	brandMajor int
	firefox    int    // Firefox major version, 0 when not Firefox
	webkit     [2]int // Safari or iOS version (major, minor), 0 when not WebKit
	platform   string // Sec-CH-UA-Platform
	mobile     bool
}

var (
	reChrome  = regexp.MustCompile(`(HeadlessChrome|Chrome)/(\d+)\.`)
	reIOS     = regexp.MustCompile(`(?:iPhone|iPad|iPod).* OS (\d+)_(\d+)`)
	reSafari  = regexp.MustCompile(`Version/(\d+)\.(\d+).*Safari/`)
	reFirefox = regexp.MustCompile(`Firefox/(\d+)`)
	reBrands  = []struct {
		re    *regexp.Regexp
		brand string
	}{
		{regexp.MustCompile(`Edg(?:A)?/(\d+)`), "Microsoft Edge"},
		{regexp.MustCompile(`OPR/(\d+)`), "Opera"},
		{regexp.MustCompile(`SamsungBrowser/(\d+)`), "Samsung Internet"},
		{regexp.MustCompile(`YaBrowser/(\d+)`), "YaBrowser"},
	}
)

func parseBrowser(ua string) browserInfo {
	var b browserInfo
	switch {
	case strings.Contains(ua, "Windows"):
		b.platform = "Windows"
	case strings.Contains(ua, "Android"):
		b.platform = "Android"
	case strings.Contains(ua, "CrOS"):
		b.platform = "Chrome OS"
	case strings.Contains(ua, "Macintosh"), strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"):
		b.platform = "macOS"
	case strings.Contains(ua, "Linux"):
		b.platform = "Linux"
	default:
		b.platform = "Unknown"
	}
	b.mobile = strings.Contains(ua, "Mobile")
	if m := reIOS.FindStringSubmatch(ua); m != nil {
		b.webkit = [2]int{atoi(m[1]), atoi(m[2])}
		return b
	}
	if m := reChrome.FindStringSubmatch(ua); m != nil {
		b.chromium = atoi(m[2])
		b.brand, b.brandMajor = "Google Chrome", b.chromium
		if m[1] == "HeadlessChrome" {
			b.brand = "Chromium" // measured: headless Chromium 156 sends only Chromium and GREASE
		}
		if strings.Contains(ua, "; wv)") {
			b.brand = "Android WebView"
		}
		for _, r := range reBrands {
			if m := r.re.FindStringSubmatch(ua); m != nil {
				b.brand, b.brandMajor = r.brand, atoi(m[1])
				break
			}
		}
		return b
	}
	if m := reFirefox.FindStringSubmatch(ua); m != nil {
		b.firefox = atoi(m[1])
		return b
	}
	if m := reSafari.FindStringSubmatch(ua); m != nil {
		b.webkit = [2]int{atoi(m[1]), atoi(m[2])}
	}
	return b
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// clientHints reports whether the browser sends Sec-CH-UA (Chromium 89+,
// to secure origins such as the collector's).
func (b browserInfo) clientHints() bool { return b.chromium >= 89 }

// fetchMetadata reports whether the browser sends Sec-Fetch-* (Chromium 76,
// Firefox 90, Safari 16.4).
func (b browserInfo) fetchMetadata() bool {
	return b.chromium >= 76 || b.firefox >= 90 || b.webkit[0] > 16 || (b.webkit[0] == 16 && b.webkit[1] >= 4)
}

// secCHUA is the Sec-CH-UA header Chromium major version `major` sends as
// brand: the brand, Chromium and a GREASE brand, as Chromium does.
func secCHUA(brand string, brandMajor, major int) string {
	grease := []string{`"Not-A.Brand";v="99"`, `"Not/A)Brand";v="8"`, `"Not_A Brand";v="24"`}[major%3]
	if brand == "Chromium" || brand == "" {
		return fmt.Sprintf(`"Chromium";v="%d", %s`, major, grease)
	}
	return fmt.Sprintf(`"%s";v="%d", "Chromium";v="%d", %s`, brand, brandMajor, major, grease)
}

// Header kinds a scenario can send.
var headerKinds = []string{
	"browser",               // what the browser sends
	"bare",                  // User-Agent, Origin and Content-Type only: a script
	"no_origin",             // User-Agent and Content-Type: a script that did not bother
	"no_client_hints",       // a Chromium without Sec-CH-UA: the UA was replaced
	"client_hints_mismatch", // Sec-CH-UA of another Chromium version than the UA's
	"platform_mismatch",     // Sec-CH-UA-Platform of another system than the UA's (a Linux server posing as Windows)
	"no_fetch_metadata",     // a modern browser UA without Sec-Fetch-*
	"no_accept_language",    // no Accept-Language
	// What headless Chromium on a Linux server sends whatever UA it was
	// given with --user-agent (measured with Debian's Chromium 156): its
	// own client hints, Chromium brand only, platform Linux.
	"headless_chromium",
}

// headlessMajor is the Chromium version the headless_chromium headers
// claim: the one TestAutomationIsCaught measured.
const headlessMajor = 156

// origin is the evaluated site's origin.
const origin = "https://shop.example"

// headers returns the request headers of one sample.
func headers(kind string, p Profile) http.Header {
	h := http.Header{}
	h.Set("User-Agent", p.UA)
	h.Set("Content-Type", "text/plain;charset=UTF-8")
	switch kind {
	case "no_origin":
		return h
	case "bare":
		h.Set("Origin", origin)
		return h
	}
	b := parseBrowser(p.UA)
	h.Set("Origin", origin)
	h.Set("Referer", origin+"/")
	h.Set("Accept", "*/*")
	if kind != "no_accept_language" {
		h.Set("Accept-Language", acceptLanguage(p.Language, b.firefox > 0))
	}
	if b.fetchMetadata() && kind != "no_fetch_metadata" {
		h.Set("Sec-Fetch-Site", "cross-site")
		h.Set("Sec-Fetch-Mode", "cors")
		h.Set("Sec-Fetch-Dest", "empty")
	}
	if kind == "headless_chromium" {
		h.Set("Accept-Language", "en-US,en;q=0.9")
		h.Set("Sec-Fetch-Site", "cross-site")
		h.Set("Sec-Fetch-Mode", "cors")
		h.Set("Sec-Fetch-Dest", "empty")
		h.Set("Sec-CH-UA", secCHUA("Chromium", headlessMajor, headlessMajor))
		h.Set("Sec-CH-UA-Mobile", "?0")
		h.Set("Sec-CH-UA-Platform", `"Linux"`)
		return h
	}
	if b.clientHints() && kind != "no_client_hints" {
		major, brandMajor := b.chromium, b.brandMajor
		if kind == "client_hints_mismatch" {
			major, brandMajor = major-7, brandMajor-7
		}
		h.Set("Sec-CH-UA", secCHUA(b.brand, brandMajor, major))
		h.Set("Sec-CH-UA-Mobile", map[bool]string{false: "?0", true: "?1"}[b.mobile])
		platform := b.platform
		if kind == "platform_mismatch" {
			platform = map[bool]string{false: "Linux", true: "Windows"}[platform == "Linux"]
		}
		h.Set("Sec-CH-UA-Platform", strconv.Quote(platform))
	}
	return h
}

// acceptLanguage is what a browser set to lang sends: "de-DE,de;q=0.9".
func acceptLanguage(lang string, firefox bool) string {
	if lang == "" {
		lang = "en-US"
	}
	base, _, region := strings.Cut(lang, "-")
	if !region {
		return lang
	}
	q := "0.9"
	if firefox {
		q = "0.5"
	}
	return lang + "," + base + ";q=" + q
}

// Signals is the snippet's automation-signal blob (docs/protocol.md).
type Signals = pageload.Signals

// Signal kinds a scenario can send.
var signalKinds = []string{
	"browser",       // a real browser's
	"none",          // no blob at all: a client that did not run the snippet
	"webdriver",     // a real browser's, with navigator.webdriver
	"globals",       // a real browser's, with ChromeDriver's cdc_ globals
	"software_gl",   // a real browser's on a machine without a GPU (SwiftShader): VMs, remote desktops
	"headless",      // what Chromium's default headless mode reports (see automation_test.go)
	"patched_flags", // headless with --disable-blink-features=AutomationControlled: no webdriver
	"stealth",       // everything patched: indistinguishable from "browser" by design
}

// signals returns the blob a sample sends; nil for "none". i varies the
// permission state the way real visitors' settings vary.
func signals(kind string, p Profile, i int) *Signals {
	if kind == "none" {
		return nil
	}
	b := parseBrowser(p.UA)
	vw, vh := p.Viewport[0], p.Viewport[1]
	if vw == 0 {
		vw, vh = 1280, 720
		if b.mobile {
			vw, vh = 390, 664
		}
	}
	sw, sh := p.Screen[0], p.Screen[1]
	if sw == 0 {
		sw, sh = vw, vh+ifMobile(b.mobile, 180, 130)
	}
	s := &Signals{Globals: []string{}, Langs: 2}
	if p.Language != "" && !strings.Contains(p.Language, "-") {
		s.Langs = 1
	}
	// Desktop windows add their frame and toolbars to the outer size;
	// mobile browsers report the screen.
	if b.mobile || p.Device == "mobile" || p.Device == "tablet" {
		s.Win = []int{vw, vh, sw, sh}
	} else {
		s.Win = []int{vw, vh, vw + 16*(i%2), vh + 85 + i%50}
	}
	// Notification permission: most never answered, some allowed or denied.
	// iOS Safari has no Notification API: the snippet sends no perm.
	switch {
	case b.webkit[0] > 0 && b.mobile:
	case i%20 == 0:
		s.Perm = "denieddenied"
	case i%20 == 1:
		s.Perm = "grantedgranted"
	default:
		s.Perm = "promptdefault"
	}
	switch kind {
	case "webdriver":
		s.Webdriver = true
	case "globals":
		s.Globals = []string{"cdc_adoQpoasnfa76pfcZLmcfl_Array", "cdc_adoQpoasnfa76pfcZLmcfl_Promise", "cdc_adoQpoasnfa76pfcZLmcfl_Symbol"}
	case "software_gl":
		s.SoftGL = true
	case "headless":
		*s = headlessSignals()
	case "patched_flags":
		*s = headlessSignals()
		s.Webdriver = false
	}
	return s
}

// headlessSignals is what Debian's Chromium 156 in its default headless
// mode reports through the snippet (measured by TestAutomationIsCaught):
// webdriver, software WebGL, its default 800×600 window with browser
// chrome, two languages, notifications not yet asked.
func headlessSignals() Signals {
	return Signals{Webdriver: true, Globals: []string{}, Langs: 2, SoftGL: true, Win: []int{780, 437, 780, 580}, Perm: "promptdefault"}
}

func ifMobile(mobile bool, yes, no int) int {
	if mobile {
		return yes
	}
	return no
}

// BrowserRequest is what one visitor sends from pageOrigin: the headers of
// the snippet's fetch (headerKind, one of headerKinds) and its signal blob
// (signalKind, one of signalKinds; nil for "none"); i varies the visitor's
// settings. The load generator models its traffic with it.
func BrowserRequest(headerKind, signalKind string, p Profile, pageOrigin string, i int) (http.Header, *Signals) {
	h := headers(headerKind, p)
	if h.Get("Origin") != "" {
		h.Set("Origin", pageOrigin)
	}
	if h.Get("Referer") != "" {
		h.Set("Referer", pageOrigin+"/")
	}
	return h, signals(signalKind, p, i)
}
