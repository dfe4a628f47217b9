package enrich

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

type referrerCase struct {
	name     string
	referrer string
	page     string // the landing page URL; "" means https://example.com/
	want     Referrer
}

// direct is the Referrer of a visit nothing is known about.
var direct = Referrer{Source: SourceDirect, Channel: ChannelDirect}

var referrerCases = []referrerCase{
	// No usable referrer.
	{"empty", "", "", direct},
	{"spaces", " \t ", "", direct},
	{"javascript", "javascript:alert(1)", "", direct},
	{"about:blank", "about:blank", "", direct},
	{"file", "file:///C:/Users/me/page.html", "", direct},
	{"browser extension", "chrome-extension://abcdefghijklmnop/popup.html", "", direct},
	{"bare host", "www.google.com", "", direct},
	{"relative", "/some/page", "", direct},
	{"no host", "https:///path", "", direct},
	{"invalid host", "https://exa mple.com/", "", direct},
	{"script in host", "https://<script>.com/", "", direct},
	{"binary garbage", "\x00\xff\xfe:%%%", "", direct},
	{"invalid android package", "android-app://Com.Ex$ample/", "", direct},
	{"android-app without package", "android-app://", "", direct},

	// Search engines.
	{"google.com", "https://www.google.com/", "",
		Referrer{URL: "https://www.google.com/", Host: "www.google.com", Source: "Google", Channel: ChannelSearch}},
	{"google.co.uk", "https://www.google.co.uk/", "",
		Referrer{URL: "https://www.google.co.uk/", Host: "www.google.co.uk", Source: "Google", Channel: ChannelSearch}},
	{"google.com.au, query stripped", "https://www.google.com.au/search?q=private+words&hl=en", "",
		Referrer{URL: "https://www.google.com.au/search", Host: "www.google.com.au", Source: "Google", Channel: ChannelSearch}},
	{"google.de without www or path", "https://google.de", "",
		Referrer{URL: "https://google.de/", Host: "google.de", Source: "Google", Channel: ChannelSearch}},
	{"bing", "https://www.bing.com/search?q=verity&form=QBLH", "",
		Referrer{URL: "https://www.bing.com/search", Host: "www.bing.com", Source: "Bing", Channel: ChannelSearch}},
	{"duckduckgo", "https://duckduckgo.com/", "",
		Referrer{URL: "https://duckduckgo.com/", Host: "duckduckgo.com", Source: "DuckDuckGo", Channel: ChannelSearch}},
	{"yahoo subdomain", "https://search.yahoo.com/search?p=x", "",
		Referrer{URL: "https://search.yahoo.com/search", Host: "search.yahoo.com", Source: "Yahoo", Channel: ChannelSearch}},
	{"yahoo.co.jp", "https://search.yahoo.co.jp/", "",
		Referrer{URL: "https://search.yahoo.co.jp/", Host: "search.yahoo.co.jp", Source: "Yahoo", Channel: ChannelSearch}},
	{"yandex, trailing slash", "https://yandex.ru/search/?text=x", "",
		Referrer{URL: "https://yandex.ru/search", Host: "yandex.ru", Source: "Yandex", Channel: ChannelSearch}},
	{"baidu mobile", "https://m.baidu.com/", "",
		Referrer{URL: "https://m.baidu.com/", Host: "m.baidu.com", Source: "Baidu", Channel: ChannelSearch}},
	{"ecosia", "https://www.ecosia.org/search?q=x", "",
		Referrer{URL: "https://www.ecosia.org/search", Host: "www.ecosia.org", Source: "Ecosia", Channel: ChannelSearch}},
	{"brave search", "https://search.brave.com/search?q=x", "",
		Referrer{URL: "https://search.brave.com/search", Host: "search.brave.com", Source: "Brave Search", Channel: ChannelSearch}},
	{"brave.com is not search", "https://brave.com/", "",
		Referrer{URL: "https://brave.com/", Host: "brave.com", Source: "brave.com", Channel: ChannelReferral}},
	{"google lookalike", "https://google.evil.com/", "",
		Referrer{URL: "https://google.evil.com/", Host: "google.evil.com", Source: "google.evil.com", Channel: ChannelReferral}},
	{"google in a label", "https://www.notgoogle.com/", "",
		Referrer{URL: "https://www.notgoogle.com/", Host: "www.notgoogle.com", Source: "notgoogle.com", Channel: ChannelReferral}},
	{"android google app", "android-app://com.google.android.googlequicksearchbox/", "",
		Referrer{URL: "android-app://com.google.android.googlequicksearchbox", Source: "Google", Channel: ChannelSearch}},

	// Email.
	{"gmail web", "https://mail.google.com/", "",
		Referrer{URL: "https://mail.google.com/", Host: "mail.google.com", Source: "Gmail", Channel: ChannelEmail}},
	{"outlook web", "https://outlook.live.com/mail/0/inbox", "",
		Referrer{URL: "https://outlook.live.com/mail/0/inbox", Host: "outlook.live.com", Source: "Outlook", Channel: ChannelEmail}},
	{"yahoo mail beats yahoo search", "https://mail.yahoo.com/d/folders/1", "",
		Referrer{URL: "https://mail.yahoo.com/d/folders/1", Host: "mail.yahoo.com", Source: "Yahoo Mail", Channel: ChannelEmail}},
	{"gmail android app", "android-app://com.google.android.gm", "",
		Referrer{URL: "android-app://com.google.android.gm", Source: "Gmail", Channel: ChannelEmail}},
	{"gmail android app, path dropped", "android-app://com.google.android.gm/some/path", "",
		Referrer{URL: "android-app://com.google.android.gm", Source: "Gmail", Channel: ChannelEmail}},

	// AI assistants.
	{"chatgpt", "https://chatgpt.com/", "",
		Referrer{URL: "https://chatgpt.com/", Host: "chatgpt.com", Source: "ChatGPT", Channel: ChannelAI}},
	{"chat.openai.com", "https://chat.openai.com/c/123", "",
		Referrer{URL: "https://chat.openai.com/c/123", Host: "chat.openai.com", Source: "ChatGPT", Channel: ChannelAI}},
	{"perplexity", "https://www.perplexity.ai/search/how-to-abc", "",
		Referrer{URL: "https://www.perplexity.ai/search/how-to-abc", Host: "www.perplexity.ai", Source: "Perplexity", Channel: ChannelAI}},
	{"claude", "https://claude.ai/", "",
		Referrer{URL: "https://claude.ai/", Host: "claude.ai", Source: "Claude", Channel: ChannelAI}},
	{"gemini beats google search", "https://gemini.google.com/app", "",
		Referrer{URL: "https://gemini.google.com/app", Host: "gemini.google.com", Source: "Gemini", Channel: ChannelAI}},
	{"copilot", "https://copilot.microsoft.com/", "",
		Referrer{URL: "https://copilot.microsoft.com/", Host: "copilot.microsoft.com", Source: "Copilot", Channel: ChannelAI}},
	{"chatgpt android app", "android-app://com.openai.chatgpt/", "",
		Referrer{URL: "android-app://com.openai.chatgpt", Source: "ChatGPT", Channel: ChannelAI}},

	// Social.
	{"facebook", "https://www.facebook.com/", "",
		Referrer{URL: "https://www.facebook.com/", Host: "www.facebook.com", Source: "Facebook", Channel: ChannelSocial}},
	{"m.facebook.com", "https://m.facebook.com/", "",
		Referrer{URL: "https://m.facebook.com/", Host: "m.facebook.com", Source: "Facebook", Channel: ChannelSocial}},
	{"l.facebook.com link shim, query stripped", "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com%2F&h=AT0", "",
		Referrer{URL: "https://l.facebook.com/l.php", Host: "l.facebook.com", Source: "Facebook", Channel: ChannelSocial}},
	{"t.co", "https://t.co/AbC123", "",
		Referrer{URL: "https://t.co/AbC123", Host: "t.co", Source: "Twitter", Channel: ChannelSocial}},
	{"x.com", "https://x.com/someone/status/1", "",
		Referrer{URL: "https://x.com/someone/status/1", Host: "x.com", Source: "Twitter", Channel: ChannelSocial}},
	{"lnkd.in", "https://lnkd.in/abc", "",
		Referrer{URL: "https://lnkd.in/abc", Host: "lnkd.in", Source: "LinkedIn", Channel: ChannelSocial}},
	{"old.reddit.com", "https://old.reddit.com/r/golang/comments/abc/title/", "",
		Referrer{URL: "https://old.reddit.com/r/golang/comments/abc/title", Host: "old.reddit.com", Source: "Reddit", Channel: ChannelSocial}},
	{"youtube", "https://www.youtube.com/", "",
		Referrer{URL: "https://www.youtube.com/", Host: "www.youtube.com", Source: "YouTube", Channel: ChannelSocial}},
	{"hacker news", "https://news.ycombinator.com/item?id=1", "",
		Referrer{URL: "https://news.ycombinator.com/item", Host: "news.ycombinator.com", Source: "Hacker News", Channel: ChannelSocial}},
	{"ycombinator.com is not hacker news", "https://www.ycombinator.com/companies", "",
		Referrer{URL: "https://www.ycombinator.com/companies", Host: "www.ycombinator.com", Source: "ycombinator.com", Channel: ChannelReferral}},
	{"bluesky", "https://bsky.app/profile/x", "",
		Referrer{URL: "https://bsky.app/profile/x", Host: "bsky.app", Source: "Bluesky", Channel: ChannelSocial}},
	{"threads", "https://www.threads.net/", "",
		Referrer{URL: "https://www.threads.net/", Host: "www.threads.net", Source: "Threads", Channel: ChannelSocial}},
	{"pinterest brand TLD", "https://www.pinterest.co.uk/pin/1/", "",
		Referrer{URL: "https://www.pinterest.co.uk/pin/1", Host: "www.pinterest.co.uk", Source: "Pinterest", Channel: ChannelSocial}},

	// Referral.
	{"unknown site, www stripped in Source only", "https://www.example.org/blog/post/", "",
		Referrer{URL: "https://www.example.org/blog/post", Host: "www.example.org", Source: "example.org", Channel: ChannelReferral}},
	{"unknown subdomain kept", "https://blog.golang.org/x", "",
		Referrer{URL: "https://blog.golang.org/x", Host: "blog.golang.org", Source: "blog.golang.org", Channel: ChannelReferral}},
	{"user info, port, case and fragment dropped", "HTTPS://user:pw@Example.NET:8443/A//b/#top", "",
		Referrer{URL: "https://example.net/A/b", Host: "example.net", Source: "example.net", Channel: ChannelReferral}},
	{"path re-escaped", "http://example.net/caf%C3%A9/a%20b/%zz", "",
		Referrer{URL: "http://example.net/caf%C3%A9/a%20b/%25zz", Host: "example.net", Source: "example.net", Channel: ChannelReferral}},
	{"unknown android app", "android-app://com.example.reader/", "",
		Referrer{URL: "android-app://com.example.reader", Source: "com.example.reader", Channel: ChannelReferral}},
	{"IPv4 hosts are not one site by their last labels", "http://10.0.1.10/", "http://192.168.1.10/",
		Referrer{URL: "http://10.0.1.10/", Host: "10.0.1.10", Source: "10.0.1.10", Channel: ChannelReferral}},
	{"IPv6", "http://[::1]:3000/a", "",
		Referrer{URL: "http://[::1]/a", Host: "::1", Source: "::1", Channel: ChannelReferral}},
	{"other site under co.uk", "https://other.co.uk/", "https://example.co.uk/",
		Referrer{URL: "https://other.co.uk/", Host: "other.co.uk", Source: "other.co.uk", Channel: ChannelReferral}},
	{"other github.io site", "https://alice.github.io/", "https://bob.github.io/",
		Referrer{URL: "https://alice.github.io/", Host: "alice.github.io", Source: "alice.github.io", Channel: ChannelReferral}},
	{"long path cut on a rune boundary", "https://example.org/" + strings.Repeat("é", 2000), "",
		Referrer{URL: "https://example.org/" + strings.Repeat("%C3%A9", 338), Host: "example.org", Source: "example.org", Channel: ChannelReferral}},
	{"longer than 8 KB", "https://example.org/" + strings.Repeat("a", 10000), "",
		Referrer{URL: "https://example.org/" + strings.Repeat("a", MaxPathLength-len("https://example.org/")), Host: "example.org", Source: "example.org", Channel: ChannelReferral}},

	// Internal.
	{"same host", "https://example.com/pricing?x=1", "https://example.com/signup",
		Referrer{URL: "https://example.com/pricing", Host: "example.com", Source: SourceDirect, Channel: ChannelInternal}},
	{"same host, case", "https://EXAMPLE.com/", "https://example.com/",
		Referrer{URL: "https://example.com/", Host: "example.com", Source: SourceDirect, Channel: ChannelInternal}},
	{"subdomain of the same site", "https://blog.example.com/", "https://www.example.com/",
		Referrer{URL: "https://blog.example.com/", Host: "blog.example.com", Source: SourceDirect, Channel: ChannelInternal}},
	{"apex and www", "https://example.com/", "https://www.example.com/",
		Referrer{URL: "https://example.com/", Host: "example.com", Source: SourceDirect, Channel: ChannelInternal}},
	{"subdomain under co.uk", "https://shop.example.co.uk/", "https://www.example.co.uk/",
		Referrer{URL: "https://shop.example.co.uk/", Host: "shop.example.co.uk", Source: SourceDirect, Channel: ChannelInternal}},
	{"same github.io site", "https://alice.github.io/a", "https://alice.github.io/b",
		Referrer{URL: "https://alice.github.io/a", Host: "alice.github.io", Source: SourceDirect, Channel: ChannelInternal}},
	{"same IP", "http://192.168.1.10:8080/", "http://192.168.1.10/",
		Referrer{URL: "http://192.168.1.10/", Host: "192.168.1.10", Source: SourceDirect, Channel: ChannelInternal}},
	{"internal and gclid: the click wins", "https://example.com/", "https://example.com/?gclid=x",
		Referrer{URL: "https://example.com/", Host: "example.com", Source: "Google", Channel: ChannelPaid}},
	{"internal and utm_source (a script redirect kept the tags)", "https://example.com/", "https://example.com/?utm_source=newsletter",
		Referrer{URL: "https://example.com/", Host: "example.com", Source: "newsletter", Channel: ChannelEmail}},
	{"internal and utm_medium only", "https://example.com/", "https://example.com/?utm_medium=social",
		Referrer{URL: "https://example.com/", Host: "example.com", Source: SourceDirect, Channel: ChannelSocial}},

	// Campaign tags.
	{"utm_source and email medium, no referrer", "", "https://example.com/?utm_source=Newsletter&utm_medium=Email",
		direct.with("newsletter", ChannelEmail)},
	{"utm_source says newsletter", "", "https://example.com/?utm_source=weekly-newsletter",
		direct.with("weekly-newsletter", ChannelEmail)},
	{"utm_medium email only", "", "https://example.com/?utm_medium=e-mail",
		direct.with(SourceDirect, ChannelEmail)},
	{"unknown utm_source is a referral", "", "https://example.com/?utm_source=poster&utm_medium=qr",
		direct.with("poster", ChannelReferral)},
	{"unknown utm_medium alone is direct", "", "https://example.com/?utm_medium=qr&utm_campaign=spring",
		direct},
	{"utm_campaign alone is direct", "", "https://example.com/?utm_campaign=spring", direct},
	{"utm_source kept as given, trimmed", "", "https://example.com/?utm_source=+My%20Blog+",
		direct.with("my blog", ChannelReferral)},
	{"ref fallback names a known source", "", "https://example.com/?ref=producthunt",
		direct.with("Product Hunt", ChannelSocial)},
	{"utm_source host (ChatGPT adds utm_source=chatgpt.com)", "", "https://example.com/?utm_source=chatgpt.com",
		direct.with("ChatGPT", ChannelAI)},
	{"utm_source host and referrer agree", "https://chatgpt.com/", "https://example.com/?utm_source=chatgpt.com",
		Referrer{URL: "https://chatgpt.com/", Host: "chatgpt.com", Source: "ChatGPT", Channel: ChannelAI}},
	{"utm_source subdomain host", "", "https://example.com/?utm_source=Mail.Google.com",
		direct.with("Gmail", ChannelEmail)},
	{"utm_source short form", "", "https://example.com/?utm_source=fb&utm_medium=social",
		direct.with("Facebook", ChannelSocial)},
	{"utm_source x is X (Twitter)", "", "https://example.com/?utm_source=X",
		direct.with("Twitter", ChannelSocial)},
	{"utm_source beats the referrer", "https://www.facebook.com/", "https://example.com/?utm_source=spring-promo",
		Referrer{URL: "https://www.facebook.com/", Host: "www.facebook.com", Source: "spring-promo", Channel: ChannelReferral}},
	{"utm_medium beats the referrer's channel", "https://www.google.com/", "https://example.com/?utm_medium=referral",
		Referrer{URL: "https://www.google.com/", Host: "www.google.com", Source: "Google", Channel: ChannelReferral}},
	{"utm_medium organic", "", "https://example.com/?utm_source=foo&utm_medium=organic",
		direct.with("foo", ChannelSearch)},
	{"utm_medium ai", "", "https://example.com/?utm_source=assistant&utm_medium=ai",
		direct.with("assistant", ChannelAI)},

	// Paid.
	{"cpc from google", "https://www.google.com/", "https://example.com/?utm_source=google&utm_medium=cpc",
		Referrer{URL: "https://www.google.com/", Host: "www.google.com", Source: "Google", Channel: ChannelPaid}},
	{"paid_social", "", "https://example.com/?utm_source=facebook&utm_medium=paid_social",
		direct.with("Facebook", ChannelPaid)},
	{"paid prefix", "", "https://example.com/?utm_source=acme&utm_medium=paid-search",
		direct.with("acme", ChannelPaid)},
	{"display", "", "https://example.com/?utm_source=dv360&utm_medium=display",
		direct.with("dv360", ChannelPaid)},
	{"paid beats email", "", "https://example.com/?utm_source=newsletter&utm_medium=cpm",
		direct.with("newsletter", ChannelPaid)},
	{"gclid with google referrer", "https://www.google.com/", "https://example.com/?gclid=x",
		Referrer{URL: "https://www.google.com/", Host: "www.google.com", Source: "Google", Channel: ChannelPaid}},
	{"gclid without referrer", "", "https://example.com/?gclid=x", direct.with("Google", ChannelPaid)},
	{"msclkid without referrer", "", "https://example.com/?msclkid=x", direct.with("Bing", ChannelPaid)},
	{"li_fat_id without referrer", "", "https://example.com/?li_fat_id=x", direct.with("LinkedIn", ChannelPaid)},
	{"fbclid alone is not paid", "", "https://example.com/?fbclid=x", direct.with("Facebook", ChannelSocial)},
	{"fbclid with facebook referrer", "https://l.facebook.com/l.php?u=x", "https://example.com/?fbclid=x",
		Referrer{URL: "https://l.facebook.com/l.php", Host: "l.facebook.com", Source: "Facebook", Channel: ChannelSocial}},
	{"fbclid tagged paid", "https://m.facebook.com/", "https://example.com/?fbclid=x&utm_source=facebook&utm_medium=paid",
		Referrer{URL: "https://m.facebook.com/", Host: "m.facebook.com", Source: "Facebook", Channel: ChannelPaid}},
}

// with returns r with another Source and Channel.
func (r Referrer) with(source, channel string) Referrer {
	r.Source, r.Channel = source, channel
	return r
}

func TestClassifyReferrer(t *testing.T) {
	for _, tc := range referrerCases {
		t.Run(tc.name, func(t *testing.T) {
			page := testPage(t, tc.page)
			got := ClassifyReferrer(tc.referrer, page)
			if got != tc.want {
				t.Errorf("ClassifyReferrer(%.80q, %+v)\n got  %+v\n want %+v", tc.referrer, page, got, tc.want)
			}
		})
	}
}

func testPage(t testing.TB, raw string) Page {
	t.Helper()
	if raw == "" {
		raw = "https://example.com/"
	}
	p, err := ParsePage(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestClassifyReferrerHandMadePage checks that fields ParsePage would
// have cleaned are cleaned again, and that a Page without a host never
// makes a referrer internal.
func TestClassifyReferrerHandMadePage(t *testing.T) {
	for _, tc := range []struct {
		name     string
		referrer string
		page     Page
		want     Referrer
	}{
		{"zero Page", "https://example.com/", Page{},
			Referrer{URL: "https://example.com/", Host: "example.com", Source: "example.com", Channel: ChannelReferral}},
		{"upper-case page host", "https://example.com/", Page{Hostname: "WWW.EXAMPLE.COM"},
			Referrer{URL: "https://example.com/", Host: "example.com", Source: SourceDirect, Channel: ChannelInternal}},
		{"dirty tags", "", Page{UTMSource: " Google\x00 ", UTMMedium: "\xffCPC "},
			direct.with("Google", ChannelPaid)},
		{"long utm_source", "", Page{UTMSource: strings.Repeat("a", 1000)},
			direct.with(strings.Repeat("a", MaxUTMLength), ChannelReferral)},
		{"unknown click id ignored", "", Page{ClickID: "gclid=123"}, direct},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClassifyReferrer(tc.referrer, tc.page); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestClassifyReferrerCopiesInput classifies from a buffer that is then
// overwritten, as Fiber reuses request buffers.
func TestClassifyReferrerCopiesInput(t *testing.T) {
	page := testPage(t, "")
	for _, raw := range []string{
		"https://www.unknown-site.org/a/b",
		"https://Example.org/",
		"android-app://com.example.reader",
	} {
		buf := []byte(raw)
		got := ClassifyReferrer(unsafe.String(&buf[0], len(buf)), page)
		want := ClassifyReferrer(strings.Clone(raw), page)
		for i := range buf {
			buf[i] = 'X'
		}
		if got != want {
			t.Errorf("%q: after the buffer changed: %+v, want %+v", raw, got, want)
		}
	}
}

// TestSourceTables checks the hand-maintained tables: lower-case valid
// keys, valid channels, and one channel per display name (sourceNames
// would otherwise depend on map order).
func TestSourceTables(t *testing.T) {
	channels := map[string]string{}
	check := func(table, key string, s source) {
		t.Helper()
		if key != strings.ToLower(key) || key == "" {
			t.Errorf("%s: key %q is not lower-case", table, key)
		}
		if s.name == "" || s.name == SourceDirect || !validChannel(s.channel) || s.channel == ChannelDirect ||
			s.channel == ChannelInternal || s.channel == ChannelPaid || s.channel == ChannelReferral {
			t.Errorf("%s[%q] = %+v", table, key, s)
		}
		if ch, ok := channels[s.name]; ok && ch != s.channel {
			t.Errorf("%s[%q]: %q is %s here, %s elsewhere", table, key, s.name, s.channel, ch)
		}
		channels[s.name] = s.channel
	}
	for k, s := range knownHosts {
		check("knownHosts", k, s)
		if !validHostname(k) || !strings.Contains(k, ".") {
			t.Errorf("knownHosts: %q is not a host name", k)
		}
	}
	for k, s := range brands {
		check("brands", k, s)
	}
	for k, s := range androidApps {
		check("androidApps", k, s)
		if !validPackage(k) {
			t.Errorf("androidApps: %q is not a package name", k)
		}
	}
	for k, s := range clickSources {
		check("clickSources", k, s)
		if !isClickID(k) {
			t.Errorf("clickSources: %q is not a click id", k)
		}
	}
	for _, id := range clickIDs {
		if _, ok := clickSources[id]; !ok {
			t.Errorf("click id %q has no source", id)
		}
	}
	for k, s := range sourceNames {
		check("sourceNames", k, s)
	}
	for k := range publicSuffixes {
		if strings.Count(k, ".") != 1 || !validHostname(k) || k != strings.ToLower(k) {
			t.Errorf("publicSuffixes: %q is not two lower-case labels", k)
		}
	}
	for _, table := range []map[string]bool{paidMediums} {
		for k := range table {
			if k != strings.ToLower(k) {
				t.Errorf("paidMediums: %q", k)
			}
		}
	}
	for k, ch := range mediumChannels {
		if k != strings.ToLower(k) || !validChannel(ch) || paidMedium(k) || emailTag(k) {
			t.Errorf("mediumChannels[%q] = %q", k, ch)
		}
	}
}

func TestRegistrable(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"localhost", "localhost"},
		{"example.com", "example.com"},
		{"a.b.example.com", "example.com"},
		{"co.uk", "co.uk"},
		{"example.co.uk", "example.co.uk"},
		{"www.example.co.uk", "example.co.uk"},
		{"alice.github.io", "alice.github.io"},
		{"x.alice.github.io", "alice.github.io"},
		{"192.168.1.10", "192.168.1.10"},
		{"::1", "::1"},
		{"host.123", "host.123"}, // not an IP: last two labels
	} {
		if got := registrable(tc.host); got != tc.want {
			t.Errorf("registrable(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}

func validChannel(c string) bool {
	switch c {
	case ChannelDirect, ChannelSearch, ChannelSocial, ChannelAI, ChannelEmail, ChannelReferral, ChannelPaid, ChannelInternal:
		return true
	}
	return false
}

// FuzzClassifyReferrer checks, for any referrer and page (parsed from a
// URL, or hand-made from raw strings when that URL does not parse): no
// panic; Channel is one of the eight; every field is valid UTF-8 and
// bounded; direct and internal visits name no source; Host is URL's host;
// and classifying URL again gives the same Referrer (URL is normalised
// once and for all).
//
//	go test -run '^$' -fuzz FuzzClassifyReferrer -fuzztime 60s ./collector/enrich/
func FuzzClassifyReferrer(f *testing.F) {
	for _, tc := range referrerCases {
		f.Add(tc.referrer, tc.page, "", "", "")
	}
	f.Add("https://example.com/", "not a url", " Google ", "CPC", "gclid")
	f.Add("android-app://com.google.android.gm", "", "", "", "fbclid")
	f.Add("http://[::1]/%E2%82", "http://[::1]/", "\xff", "social", "")
	f.Fuzz(func(t *testing.T, referrer, pageURL, utmSource, utmMedium, clickID string) {
		page, err := ParsePage(pageURL)
		if err != nil {
			page = Page{Hostname: pageURL, UTMSource: utmSource, UTMMedium: utmMedium, ClickID: clickID}
		}
		r := ClassifyReferrer(referrer, page)
		if !validChannel(r.Channel) {
			t.Fatalf("Channel %q", r.Channel)
		}
		for _, s := range []string{r.URL, r.Host, r.Source} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 in %+v", r)
			}
		}
		if len(r.URL) > MaxPathLength || len(r.Host) > maxHostLength || r.Source == "" || len(r.Source) > MaxUTMLength {
			t.Fatalf("unbounded: %+v", r)
		}
		switch r.Channel {
		case ChannelDirect:
			if r != direct {
				t.Fatalf("direct with %+v", r)
			}
		case ChannelInternal:
			if r.Source != SourceDirect || r.Host == "" {
				t.Fatalf("internal with %+v", r)
			}
		}
		if r.Host != "" && r.URL == "" {
			t.Fatalf("Host without URL: %+v", r)
		}
		if r.URL != "" {
			u, err := url.Parse(r.URL)
			if err != nil {
				t.Fatalf("URL %q: %v", r.URL, err)
			}
			switch u.Scheme {
			case "http", "https":
				if u.Hostname() != r.Host || u.Port() != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
					t.Fatalf("URL %q, Host %q", r.URL, r.Host)
				}
			case "android-app":
				if r.Host != "" {
					t.Fatalf("app with Host %q", r.Host)
				}
			default:
				t.Fatalf("URL %q", r.URL)
			}
		}
		if again := ClassifyReferrer(r.URL, page); again != r {
			t.Fatalf("again with URL %q\n got  %+v\n want %+v", r.URL, again, r)
		}
	})
}

// BenchmarkClassifyReferrer classifies one referrer of each common kind: a
// search engine, a social link shim, an unknown site, an internal page,
// none.
func BenchmarkClassifyReferrer(b *testing.B) {
	page := testPage(b, "https://www.example.com/blog/post")
	for _, bc := range []struct{ name, referrer, channel string }{
		{"search", "https://www.google.co.uk/", ChannelSearch},
		{"social", "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.example.com%2F&h=AT0xyz", ChannelSocial},
		{"referral", "https://www.some-blog.org/2024/05/links-i-liked/", ChannelReferral},
		{"internal", "https://www.example.com/", ChannelInternal},
		{"direct", "", ChannelDirect},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := ClassifyReferrer(bc.referrer, page); r.Channel != bc.channel {
					b.Fatal(r)
				}
			}
		})
	}
}
