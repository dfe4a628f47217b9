package script

// Limits of the wire format. The snippet (src/verity.js, whose consts a test
// compares with these) never exceeds them; the collector refuses a request
// that does (400), so a forged or broken client cannot make it store more.
// Lengths count Unicode code points after JSON decoding: the snippet cuts
// strings by UTF-16 code units, which is never more code points.
const (
	// MaxEventsPerToken caps the events sent under one page-load token.
	// Every batch holds at least one event, so it also caps seq. A snippet
	// that reaches it asks for a new token.
	MaxEventsPerToken = 200
	// MaxSeq is the highest batch sequence number under one token.
	MaxSeq = MaxEventsPerToken
	// MaxEventsPerBatch caps the events of one POST /api/event.
	MaxEventsPerBatch = 50
	// MaxBatchEventChars caps the JSON text of one batch's events in UTF-16
	// code units, unless the batch holds a single event. With at most 3
	// UTF-8 bytes per code unit, a batch body stays near 32 KiB, well under
	// the collector's default body limit (64 KiB).
	MaxBatchEventChars = 10240
	// MaxURLLen caps url, referrer and href.
	MaxURLLen = 2048
	// MaxTitleLen caps a pageview's title.
	MaxTitleLen = 256
	// MaxShortLen caps a pageview's lang and each automation global name.
	// Time zones (IANA names) are sent as they are: the longest is 32.
	MaxShortLen = 64
	// MaxNameLen caps a custom event's name (which must not be empty).
	MaxNameLen = 64
	// MaxProps caps the properties of a custom event.
	MaxProps = 10
	// MaxPropKeyLen caps a property name (which must not be empty).
	MaxPropKeyLen = 64
	// MaxPropValueLen caps a property value. Values are always strings.
	MaxPropValueLen = 256
	// MaxGlobals caps the automation globals listed in the signals.
	MaxGlobals = 8
)

// DefaultChecks returns the DOM checks the collector should name in every
// challenge answer ("checks"): a result key and a CSS selector each. For
// each, the snippet reports [number of matches, length of the first match's
// content attribute or text] (the text of <title>; 0 for most elements),
// once per page load. The collector judges the findings: a missing or
// overlong title or description, not exactly one h1, no canonical link, no
// lang on <html>, no viewport, images without alt, noindex. The list lives
// on the server so checks can change without a new snippet (which browsers
// cache); a fresh map on every call.
func DefaultChecks() map[string]string {
	return map[string]string{
		"title":       "title",
		"description": "meta[name=description]",
		"h1":          "h1",
		"canonical":   "link[rel=canonical]",
		"lang":        "html[lang]",
		"viewport":    "meta[name=viewport]",
		"img_no_alt":  "img:not([alt])",
		"noindex":     "meta[name=robots][content*=noindex i]",
	}
}

// AutomationGlobals is the pattern the collector should send in every
// challenge answer ("globals"): a JavaScript regular expression (source
// only, no flags) matched against the names of window's and document's own
// enumerable properties. Matches are reported in signals.globals. It finds
// what PhantomJS, Nightmare, Selenium and ChromeDriver (cdc_ keys), the
// WebDriver and Firefox drivers and Playwright leave behind; it lives on
// the server so it can grow without a new snippet. It is also valid RE2.
const AutomationGlobals = `^(_+(nightmare|phantom|webdriver|selenium|fxdriver|driver_|playwright)|callPhantom|domAutomation|\$?cdc_|\$wdc_|_Selenium_IDE_Recorder|__pwInitScripts)`

// DownloadExtensions is the pattern the collector sends in every challenge
// answer ("downloads"): a JavaScript regular expression (source only; the
// snippet matches it case-insensitively) for link paths whose clicks count
// as file downloads rather than outbound links. It lives on the server to
// keep the snippet small and so the list can grow without a new snippet.
// Links with a download attribute always count. It is also valid RE2.
const DownloadExtensions = `\.(pdf|zip|(doc|xls|ppt)x?|csv|txt|dmg|exe|msi|apk|mp[34])$`
