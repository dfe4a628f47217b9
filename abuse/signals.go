package abuse

import (
	"regexp"
	"strconv"
	"strings"
)

// The request- and page-level signals: small pure functions of what one
// request says. docs/abuse.md explains each in words a client understands.

// maxBrowserUA is longer than any real browser's User-Agent (about 150-400
// bytes, app web views with their own tokens up to about 500).
const maxBrowserUA = 1024

// NonBrowserUA reports a User-Agent that no browser sends: empty, huge, with
// bytes outside printable ASCII, or not in the "Mozilla/5.0 (...)" form
// every browser (and web view) has used for two decades. HTTP libraries and
// tools (curl/8.5, python-requests/2.31, Go-http-client/1.1) fail the last
// test; those that fake a browser's string are left to the other signals.
func NonBrowserUA(ua string) bool {
	if len(ua) == 0 || len(ua) > maxBrowserUA || !strings.HasPrefix(ua, "Mozilla/5.0 (") {
		return true
	}
	for i := 0; i < len(ua); i++ {
		if ua[i] < 0x20 || ua[i] > 0x7e {
			return true
		}
	}
	return false
}

// httpLibraries are tokens of the User-Agents HTTP libraries, command-line
// tools and headless DOM implementations send by default, as they write
// them. Many are on the crawler lists too, but they are not crawlers that
// declare themselves: they are non-browsers (MRC's "non-browser user
// agent"), and this puts them in that class.
var httpLibraries = []string{
	"curl/", "Wget/", "python-requests/", "Python-urllib/", "python-httpx/", "aiohttp/", "Go-http-client/",
	"okhttp/", "axios/", "node-fetch", "undici", "Java/", "Apache-HttpClient/", "libwww-perl/", "PostmanRuntime/",
	"insomnia/", "HTTPie/", "Faraday v", "GuzzleHttp/", "Dalvik/", "CFNetwork/", "Dart/", "jsdom/", "RestSharp/",
	"WindowsPowerShell/", "WinHttp", "Scrapy/", "Mechanize/", "HTTPClient/", "reqwest/", "http.rb/", "Ruby",
}

// HTTPLibraryUA reports a User-Agent naming an HTTP library or tool
// (curl/8.5, python-requests/2.31, Dalvik/2.1, CFNetwork/1494, jsdom/24).
func HTTPLibraryUA(ua string) bool {
	for _, t := range httpLibraries {
		if strings.Contains(ua, t) {
			return true
		}
	}
	return false
}

// HeadlessUA reports the User-Agent tokens of headless browsers.
func HeadlessUA(ua string) bool {
	return strings.Contains(ua, "HeadlessChrome") || strings.Contains(ua, "PhantomJS")
}

// Prefetch reports a speculative request (a link prefetch or prerender)
// from its headers: Sec-Purpose (Chromium, Firefox), Purpose (older
// Chromium and Safari) or X-Moz (older Firefox). A prefetch is not a view.
func Prefetch(secPurpose, purpose, xMoz string) bool {
	return strings.HasPrefix(secPurpose, "prefetch") || strings.EqualFold(purpose, "prefetch") || strings.EqualFold(xMoz, "prefetch")
}

// referrerSpamDomains are domains known only for referrer spam (fake
// visits that advertise the referrer in analytics reports). Public lists
// (Matomo's referrer-spam-list) have thousands; these are the most
// persistent, matched with their subdomains. Operators extend nothing
// here: a site's deny rules and quarantine cover the rest.
var referrerSpamDomains = map[string]bool{
	"semalt.com": true, "buttons-for-website.com": true, "buttons-for-your-website.com": true, "darodar.com": true,
	"ilovevitaly.com": true, "ilovevitaly.ru": true, "priceg.com": true, "blackhatworth.com": true, "hulfingtonpost.com": true,
	"best-seo-offer.com": true, "best-seo-solution.com": true, "free-share-buttons.com": true, "get-free-traffic-now.com": true,
	"social-buttons.com": true, "simple-share-buttons.com": true, "4webmasters.org": true, "trafficmonetize.org": true,
	"webmonetizer.net": true, "7makemoneyonline.com": true, "o-o-6-o-o.com": true, "o-o-8-o-o.com": true,
	"savetubevideo.com": true, "kambasoft.com": true, "descargar-musica-gratis.net": true, "event-tracking.com": true,
	"floating-share-buttons.com": true, "success-seo.com": true, "videos-for-your-business.com": true, "rank-checker.online": true,
}

// ReferrerSpam reports whether a referrer host is a known referrer-spam
// domain or a subdomain of one.
func ReferrerSpam(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for host != "" {
		if referrerSpamDomains[host] {
			return true
		}
		_, rest, ok := strings.Cut(host, ".")
		if !ok {
			return false
		}
		host = rest
	}
	return false
}

// ImpossibleWindow reports a page without an outer window: outerWidth and
// outerHeight 0 around a page that has a size, as in headless browsers
// without a window. win is [innerWidth, innerHeight, outerWidth,
// outerHeight]; anything else says nothing. Outer sizes smaller than the
// inner ones are not counted: zoomed-out pages have them.
func ImpossibleWindow(win []int) bool {
	return len(win) == 4 && win[0] > 0 && win[1] > 0 && win[2] == 0 && win[3] == 0
}

// PermissionMismatch reports the snippet's perm value (the Permissions
// API's state for notifications followed by Notification.permission) when
// the two disagree as no browser's do: "prompt" with "denied", which old
// headless Chromium answers. Empty (not supported, not yet known) says
// nothing.
func PermissionMismatch(perm string) bool { return perm == "promptdenied" }

var platformToken = regexp.MustCompile(`\((Windows NT|Macintosh|iPhone|iPad|X11; CrOS|Linux; Android|X11|Android)`)

// uaPlatform is the Sec-CH-UA-Platform value a browser with this UA sends.
func uaPlatform(ua string) string {
	m := platformToken.FindStringSubmatch(ua)
	if m == nil {
		return ""
	}
	switch m[1] {
	case "Windows NT":
		return "Windows"
	case "Macintosh":
		return "macOS"
	case "iPhone", "iPad":
		return "iOS"
	case "X11; CrOS":
		return "Chrome OS"
	case "Linux; Android", "Android":
		return "Android"
	}
	return "Linux"
}

// PlatformMismatch reports a Sec-CH-UA-Platform hint (sent by Chromium on
// every secure request, e.g. `"Windows"`) that names another operating
// system than the User-Agent: a UA edited to look like another machine.
// Without the hint, or with a UA naming no known platform, it says nothing.
func PlatformMismatch(ua, secCHUAPlatform string) bool {
	hint := strings.Trim(secCHUAPlatform, `" `)
	if hint == "" || hint == "Unknown" {
		return false
	}
	want := uaPlatform(ua)
	if want == "" {
		return false
	}
	// Chromium on Android tablets in desktop mode claims Linux in the UA.
	return hint != want && !(hint == "Android" && want == "Linux")
}

var browserVersion = regexp.MustCompile(`(Firefox|Chrome|Version)/(\d+)`)

// fetchMetadataSince is the first major version of each engine that sends
// Sec-Fetch-* headers on every fetch: Chrome 76, Firefox 90, Safari 16.4
// (counted from 17, as 16.x before .4 did not).
var fetchMetadataSince = map[string]int{"Chrome": 76, "Firefox": 90, "Version": 17}

// MissingFetchMetadata reports a browser whose version always sends
// Sec-Fetch-Mode with fetch() and sendBeacon, yet the request has none: a
// script replaying a browser's User-Agent. Proxies that strip headers
// cause it too, so it is weighed, not decisive.
func MissingFetchMetadata(ua, secFetchMode string) bool {
	if secFetchMode != "" {
		return false
	}
	m := browserVersion.FindStringSubmatch(ua)
	if m == nil {
		return false
	}
	if m[1] == "Version" && !strings.Contains(ua, "Safari/") {
		return false
	}
	v, err := strconv.Atoi(m[2])
	return err == nil && v >= fetchMetadataSince[m[1]]
}

// MissingAcceptLanguage reports a request without Accept-Language, which
// every browser sends with fetch() and sendBeacon.
func MissingAcceptLanguage(acceptLanguage string) bool {
	return strings.TrimSpace(acceptLanguage) == ""
}
