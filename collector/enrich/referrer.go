package enrich

import (
	"net/netip"
	"strings"
)

// Channels stored in the events' channel column: where a visit came from,
// in broad classes. See ClassifyReferrer for the rules.
const (
	ChannelDirect   = "direct"   // no referrer and no campaign tags
	ChannelSearch   = "search"   // a search engine, or utm_medium=organic
	ChannelSocial   = "social"   // a social network, forum or messenger
	ChannelAI       = "ai"       // an AI assistant (ChatGPT, Perplexity, ...)
	ChannelEmail    = "email"    // a webmail or mail app, or tagged email/newsletter
	ChannelReferral = "referral" // any other site, app or tagged source
	ChannelPaid     = "paid"     // tagged as paid (utm_medium=cpc, ...) or an ad click id
	ChannelInternal = "internal" // a page of the same site
)

// SourceDirect is Referrer.Source when nothing names a source.
const SourceDirect = "Direct / None"

// Referrer is what the events table stores about where a visit came from.
type Referrer struct {
	// URL is the referrer normalised: "http(s)://" + Host + the path as
	// Page.Pathname has it (re-escaped), without user info, port, query
	// or fragment, at most MaxPathLength bytes (the path is cut at a
	// character boundary). For an Android app it is "android-app://" +
	// the package name. "" when there was no usable referrer.
	URL string
	// Host is the referrer's host as Page.Hostname has it ("www." kept);
	// "" for an app or no usable referrer.
	Host string
	// Source is a display name: a known site's ("Google", "Hacker News"),
	// else the host without "www.", else the utm_source, else
	// SourceDirect. See ClassifyReferrer for which one wins.
	Source string
	// Channel is one of the Channel* constants.
	Channel string
}

// ClassifyReferrer names the source and channel of a visit from its
// referrer (document.referrer or the Referer header) and the landing page's
// host and campaign tags. Campaign tags are explicit, so they beat the
// referrer, as in Google Analytics and Plausible.
//
// The referrer is usable when it is an absolute http or https URL with a
// valid host (see ParsePage), or android-app://<package> (what Android
// apps such as Gmail send). Anything else — "javascript:alert(1)",
// "about:blank", "file:", "chrome-extension:", a bare host, garbage — is
// treated as no referrer at all: such values name no site a visitor could
// come from, and keeping them would store attacker-chosen text (or a
// script URL the dashboard might link to).
//
// Source, the first that applies:
//
//  1. utm_source (or its ref/source fallbacks), as the Page has it
//     (trimmed, lower-case); but when it names a known source by display
//     name, short form or host ("google", "fb", "hacker news",
//     "chatgpt.com", which ChatGPT adds to its links), that source's
//     display name, so tagged and untagged visits from one site share one
//     row in the dashboard.
//  2. A usable referrer from another site: the known source of its host
//     (the tables below; the most specific domain wins, so
//     mail.google.com is Gmail while www.google.co.uk is Google), of its
//     app package, else the host without a leading "www." (or the
//     package name).
//  3. The network of an ad click id (gclid → Google, fbclid → Facebook).
//  4. SourceDirect.
//
// Channel, the first that applies:
//
//  1. paid: utm_medium is cpc, ppc, cpm, cpv, cpa, display, banner,
//     retargeting or remarketing, or starts with "paid" (paid,
//     paidsearch, paid_social, ...); or the page has an ad click id other
//     than fbclid. Facebook adds fbclid to every outbound link, organic
//     posts included, so it says "from Facebook", not "paid".
//  2. email: utm_medium or utm_source is "mail" or contains "email",
//     "e-mail", "e_mail" or "newsletter".
//  3. utm_medium names a channel: social, social-media, sm,
//     organic_social, ... → social; organic, organic_search, seo →
//     search; referral, affiliate, partner → referral; ai, llm → ai.
//  4. The channel of the source chosen above: a known source's (webmail
//     hosts and mail apps are email; AI assistants ai; search engines
//     search; social networks social); referral for any other site, app or
//     utm_source; internal when the referrer is the same site as the page
//     and nothing else names a source; direct otherwise.
//
// Same site: the referrer's host equals the page's, or both share their
// last two labels (www.example.com and blog.example.com), or their last
// three when the last two are a public suffix in the table below (co.uk,
// com.au, github.io: alice.github.io is not bob.github.io). IP addresses
// must be equal.
//
// page is normally ParsePage's result; its fields are cleaned again, so a
// hand-made Page cannot make the result unbounded or invalid UTF-8. The
// Referrer never aliases referrer.
func ClassifyReferrer(referrer string, page Page) Referrer {
	var r Referrer
	ref, ok := parseReferrer(referrer)
	if ok {
		r.URL, r.Host = ref.url, ref.host
	}
	internal := ok && ref.host != "" && sameSite(ref.host, strings.ToLower(page.Hostname))

	tag := cleanUTM(page.UTMSource, true)
	medium := cleanUTM(page.UTMMedium, true)
	click := ""
	if page.ClickID != "" {
		for _, id := range clickIDs {
			if page.ClickID == id {
				click = id
			}
		}
	}

	var src source
	switch {
	case tag != "":
		src = tagSource(tag)
	case ok && !internal:
		src = ref.source
	case click != "":
		src = clickSources[click]
	case internal:
		src = source{SourceDirect, ChannelInternal}
	default:
		src = source{SourceDirect, ChannelDirect}
	}
	r.Source = src.name

	r.Channel = src.channel
	if medium == "" && tag == "" && click == "" {
		return r // untagged, the common case
	}
	switch {
	case paidMedium(medium) || click != "" && click != ClickFacebook:
		r.Channel = ChannelPaid
	case emailTag(medium) || emailTag(tag):
		r.Channel = ChannelEmail
	default:
		if ch, ok := mediumChannels[medium]; ok {
			r.Channel = ch
		}
	}
	return r
}

// source is a display name and its channel.
type source struct{ name, channel string }

// parsedReferrer is a usable referrer.
type parsedReferrer struct {
	url, host string
	source    source // known, or the host (package) as a referral
}

// parseReferrer normalises a referrer; ok is false when it is not usable
// (see ClassifyReferrer). Referrers longer than MaxURLLength are cut first:
// only the start matters.
func parseReferrer(raw string) (parsedReferrer, bool) {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxURLLength {
		raw = raw[:MaxURLLength]
	}
	u, err := splitURL(raw)
	if err != nil {
		return parsedReferrer{}, false
	}
	// The URL is a new string; Host and Source are cut from it, so that
	// nothing aliases raw.
	switch u.scheme {
	case "http", "https":
		host, err := parseAuthority(u.authority)
		if err != nil {
			return parsedReferrer{}, false
		}
		url := referrerURL(u.scheme, host, cleanPath(u.path))
		start := len(u.scheme) + len("://")
		if url[start] == '[' {
			start++
		}
		host = url[start : start+len(host)]
		src, ok := lookupHost(host)
		if !ok {
			src = source{strings.TrimPrefix(host, "www."), ChannelReferral}
		}
		return parsedReferrer{url: url, host: host, source: src}, true
	case "android-app":
		pkg := strings.ToLower(u.authority)
		if !validPackage(pkg) {
			return parsedReferrer{}, false
		}
		url := "android-app://" + pkg
		src, ok := androidApps[pkg]
		if !ok {
			src = source{url[len("android-app://"):], ChannelReferral}
		}
		return parsedReferrer{url: url, source: src}, true
	}
	return parsedReferrer{}, false
}

// referrerURL assembles Referrer.URL from a host and a cleaned path,
// cutting the path (decoded, at a character boundary) so that the escaped
// URL fits MaxPathLength bytes. Parsing the result again gives it back.
func referrerURL(scheme, host, path string) string {
	lb, rb := "", ""
	if strings.IndexByte(host, ':') >= 0 {
		lb, rb = "[", "]"
	}
	esc := escapePath(path)
	budget := MaxPathLength - len(scheme) - len("://") - len(lb) - len(host) - len(rb)
	if len(esc) > budget {
		n := 0
		for i, c := range path {
			if n += escapedLen(c); n > budget {
				path = path[:i]
				break
			}
		}
		esc = escapePath(trimSlash(path))
	}
	return scheme + "://" + lb + host + rb + esc // one allocation
}

// validPackage reports whether p looks like an Android package name:
// lower-case letters, digits, '_' and '.', starting with a letter, at most
// maxHostLength bytes.
func validPackage(p string) bool {
	if p == "" || len(p) > maxHostLength || p[0] < 'a' || p[0] > 'z' {
		return false
	}
	for _, c := range []byte(p) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// lookupHost returns the known source of host or of its closest parent
// domain: for m.facebook.com it tries m.facebook.com, then facebook.com.
// At each level a brand (google, yahoo, ...) followed only by a top-level
// domain also matches: google.de, google.co.uk, google.com.au.
func lookupHost(host string) (source, bool) {
	for h := host; ; {
		if s, ok := knownHosts[h]; ok {
			return s, true
		}
		label, rest, ok := strings.Cut(h, ".")
		if !ok {
			return source{}, false
		}
		if s, ok := brands[label]; ok && topLevel(rest) {
			return s, true
		}
		h = rest
	}
}

// topLevel reports whether d looks like a top-level domain, either one
// label ("com", "de") or a short second level under a country code
// ("co.uk", "com.au", "ne.jp").
func topLevel(d string) bool {
	first, cc, ok := strings.Cut(d, ".")
	if !ok {
		return d != ""
	}
	return first != "" && len(first) <= 3 && len(cc) == 2 && strings.IndexByte(cc, '.') < 0
}

// tagSource is the source a utm_source value names (see ClassifyReferrer,
// Source rule 1).
func tagSource(tag string) source {
	if s, ok := sourceNames[tag]; ok {
		return s
	}
	if strings.IndexByte(tag, '.') >= 0 && validHostname(tag) {
		if s, ok := lookupHost(tag); ok {
			return s
		}
	}
	return source{tag, ChannelReferral}
}

// sameSite reports whether two hosts, both lower-case, belong to the same
// site (see ClassifyReferrer).
func sameSite(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return a == b || registrable(a) == registrable(b)
}

// registrable returns the part of host a registrant controls: its last two
// labels, its last three under a public suffix, or the host itself for an
// IP address or a single label.
func registrable(host string) string {
	if strings.IndexByte(host, ':') >= 0 {
		return host // IPv6
	}
	if c := host[len(host)-1]; '0' <= c && c <= '9' {
		if _, err := netip.ParseAddr(host); err == nil {
			return host // IPv4: 10.0.1.10 and 192.168.1.10 are not one site
		}
	}
	i := strings.LastIndexByte(host, '.')
	if i < 0 {
		return host
	}
	j := strings.LastIndexByte(host[:i], '.')
	if j < 0 {
		return host
	}
	if publicSuffixes[host[j+1:]] {
		return host[strings.LastIndexByte(host[:j], '.')+1:]
	}
	return host[j+1:]
}

func paidMedium(m string) bool {
	return paidMediums[m] || strings.HasPrefix(m, "paid")
}

func emailTag(s string) bool {
	return s == "mail" || strings.Contains(s, "email") || strings.Contains(s, "e-mail") ||
		strings.Contains(s, "e_mail") || strings.Contains(s, "newsletter")
}

// The tables below are hand-maintained: nothing is fetched or generated
// from external lists, so classification never changes behind our back and
// needs no network. Keys are lower-case. Add a site when it shows up in
// real referrers; a site missing here is still counted, as a referral
// named after its host. They are read-only after package initialisation.
var (
	// knownHosts maps a host, or a parent domain of hosts, to its source.
	knownHosts = map[string]source{
		// Search engines. Google, Yahoo and Yandex are in brands.
		"bing.com":         {"Bing", ChannelSearch},
		"duckduckgo.com":   {"DuckDuckGo", ChannelSearch},
		"duck.com":         {"DuckDuckGo", ChannelSearch},
		"ecosia.org":       {"Ecosia", ChannelSearch},
		"qwant.com":        {"Qwant", ChannelSearch},
		"search.brave.com": {"Brave Search", ChannelSearch},
		"startpage.com":    {"Startpage", ChannelSearch},
		"baidu.com":        {"Baidu", ChannelSearch},
		"naver.com":        {"Naver", ChannelSearch},
		"seznam.cz":        {"Seznam", ChannelSearch},
		"ya.ru":            {"Yandex", ChannelSearch},
		"sogou.com":        {"Sogou", ChannelSearch},
		"so.com":           {"360 Search", ChannelSearch},
		"ask.com":          {"Ask.com", ChannelSearch},
		"search.aol.com":   {"AOL Search", ChannelSearch},
		"kagi.com":         {"Kagi", ChannelSearch},
		"mojeek.com":       {"Mojeek", ChannelSearch},
		"daum.net":         {"Daum", ChannelSearch},
		"petalsearch.com":  {"Petal Search", ChannelSearch},
		"coccoc.com":       {"Cốc Cốc", ChannelSearch},
		"metager.org":      {"MetaGer", ChannelSearch},
		"swisscows.com":    {"Swisscows", ChannelSearch},
		"presearch.com":    {"Presearch", ChannelSearch},

		// Webmail. More specific than the search engines of the same
		// company (mail.google.com is not Google search).
		"mail.google.com":       {"Gmail", ChannelEmail},
		"inbox.google.com":      {"Gmail", ChannelEmail},
		"outlook.live.com":      {"Outlook", ChannelEmail},
		"outlook.office.com":    {"Outlook", ChannelEmail},
		"outlook.office365.com": {"Outlook", ChannelEmail},
		"mail.yahoo.com":        {"Yahoo Mail", ChannelEmail},
		"mail.proton.me":        {"Proton Mail", ChannelEmail},
		"mail.protonmail.com":   {"Proton Mail", ChannelEmail},
		"mail.aol.com":          {"AOL Mail", ChannelEmail},
		"mail.yandex.ru":        {"Yandex Mail", ChannelEmail},
		"mail.yandex.com":       {"Yandex Mail", ChannelEmail},
		"mail.zoho.com":         {"Zoho Mail", ChannelEmail},
		"mail.zoho.eu":          {"Zoho Mail", ChannelEmail},
		"fastmail.com":          {"Fastmail", ChannelEmail},
		"e.mail.ru":             {"Mail.ru", ChannelEmail},
		"app.tuta.com":          {"Tuta", ChannelEmail},
		"mail.tutanota.com":     {"Tuta", ChannelEmail},
		"gmx.net":               {"GMX", ChannelEmail},
		"mail.qq.com":           {"QQ Mail", ChannelEmail},
		"mail.163.com":          {"NetEase Mail", ChannelEmail},
		"app.hey.com":           {"HEY Mail", ChannelEmail},
		"mail.naver.com":        {"Naver Mail", ChannelEmail},

		// AI assistants.
		"chatgpt.com":             {"ChatGPT", ChannelAI},
		"chat.openai.com":         {"ChatGPT", ChannelAI},
		"perplexity.ai":           {"Perplexity", ChannelAI},
		"claude.ai":               {"Claude", ChannelAI},
		"gemini.google.com":       {"Gemini", ChannelAI},
		"bard.google.com":         {"Gemini", ChannelAI},
		"notebooklm.google.com":   {"NotebookLM", ChannelAI},
		"copilot.microsoft.com":   {"Copilot", ChannelAI},
		"copilot.cloud.microsoft": {"Copilot", ChannelAI},
		"edgeservices.bing.com":   {"Copilot", ChannelAI},
		"you.com":                 {"You.com", ChannelAI},
		"phind.com":               {"Phind", ChannelAI},
		"chat.deepseek.com":       {"DeepSeek", ChannelAI},
		"chat.mistral.ai":         {"Mistral", ChannelAI},
		"meta.ai":                 {"Meta AI", ChannelAI},
		"poe.com":                 {"Poe", ChannelAI},
		"grok.com":                {"Grok", ChannelAI},
		"kimi.com":                {"Kimi", ChannelAI},
		"chat.qwen.ai":            {"Qwen", ChannelAI},
		"duck.ai":                 {"Duck.ai", ChannelAI},

		// Social networks, forums and messengers. Mastodon and Lemmy run
		// on thousands of hosts and are left out rather than guessed.
		"facebook.com":         {"Facebook", ChannelSocial},
		"fb.com":               {"Facebook", ChannelSocial},
		"fb.me":                {"Facebook", ChannelSocial},
		"messenger.com":        {"Messenger", ChannelSocial},
		"instagram.com":        {"Instagram", ChannelSocial},
		"t.co":                 {"Twitter", ChannelSocial},
		"twitter.com":          {"Twitter", ChannelSocial},
		"x.com":                {"Twitter", ChannelSocial},
		"linkedin.com":         {"LinkedIn", ChannelSocial},
		"lnkd.in":              {"LinkedIn", ChannelSocial},
		"reddit.com":           {"Reddit", ChannelSocial},
		"redd.it":              {"Reddit", ChannelSocial},
		"youtube.com":          {"YouTube", ChannelSocial},
		"youtu.be":             {"YouTube", ChannelSocial},
		"tiktok.com":           {"TikTok", ChannelSocial},
		"pin.it":               {"Pinterest", ChannelSocial},
		"news.ycombinator.com": {"Hacker News", ChannelSocial},
		"threads.net":          {"Threads", ChannelSocial},
		"threads.com":          {"Threads", ChannelSocial},
		"bsky.app":             {"Bluesky", ChannelSocial},
		"vk.com":               {"VK", ChannelSocial},
		"ok.ru":                {"Odnoklassniki", ChannelSocial},
		"weibo.com":            {"Weibo", ChannelSocial},
		"tumblr.com":           {"Tumblr", ChannelSocial},
		"quora.com":            {"Quora", ChannelSocial},
		"discord.com":          {"Discord", ChannelSocial},
		"discordapp.com":       {"Discord", ChannelSocial},
		"discord.gg":           {"Discord", ChannelSocial},
		"slack.com":            {"Slack", ChannelSocial},
		"t.me":                 {"Telegram", ChannelSocial},
		"telegram.org":         {"Telegram", ChannelSocial},
		"whatsapp.com":         {"WhatsApp", ChannelSocial},
		"wa.me":                {"WhatsApp", ChannelSocial},
		"lobste.rs":            {"Lobsters", ChannelSocial},
		"producthunt.com":      {"Product Hunt", ChannelSocial},
		"snapchat.com":         {"Snapchat", ChannelSocial},
		"xing.com":             {"XING", ChannelSocial},
		"line.me":              {"LINE", ChannelSocial},
		"twitch.tv":            {"Twitch", ChannelSocial},
		"flipboard.com":        {"Flipboard", ChannelSocial},
		"nextdoor.com":         {"Nextdoor", ChannelSocial},
		"douyin.com":           {"Douyin", ChannelSocial},
		"xiaohongshu.com":      {"Xiaohongshu", ChannelSocial},
	}

	// brands maps a second-level label to its source for sites that run
	// under many top-level domains (google.com, google.de, google.co.uk).
	brands = map[string]source{
		"google":    {"Google", ChannelSearch},
		"yahoo":     {"Yahoo", ChannelSearch},
		"yandex":    {"Yandex", ChannelSearch},
		"pinterest": {"Pinterest", ChannelSocial},
	}

	// androidApps maps the package names Android apps send as
	// android-app://<package> to their source.
	androidApps = map[string]source{
		"com.google.android.gm":                   {"Gmail", ChannelEmail},
		"com.microsoft.office.outlook":            {"Outlook", ChannelEmail},
		"com.yahoo.mobile.client.android.mail":    {"Yahoo Mail", ChannelEmail},
		"com.google.android.googlequicksearchbox": {"Google", ChannelSearch},
		"com.microsoft.bing":                      {"Bing", ChannelSearch},
		"com.duckduckgo.mobile.android":           {"DuckDuckGo", ChannelSearch},
		"com.openai.chatgpt":                      {"ChatGPT", ChannelAI},
		"ai.perplexity.app.android":               {"Perplexity", ChannelAI},
		"com.anthropic.claude":                    {"Claude", ChannelAI},
		"com.google.android.apps.bard":            {"Gemini", ChannelAI},
		"com.microsoft.copilot":                   {"Copilot", ChannelAI},
		"com.google.android.youtube":              {"YouTube", ChannelSocial},
		"com.facebook.katana":                     {"Facebook", ChannelSocial},
		"com.facebook.orca":                       {"Messenger", ChannelSocial},
		"com.instagram.android":                   {"Instagram", ChannelSocial},
		"com.twitter.android":                     {"Twitter", ChannelSocial},
		"com.linkedin.android":                    {"LinkedIn", ChannelSocial},
		"com.reddit.frontpage":                    {"Reddit", ChannelSocial},
		"com.slack":                               {"Slack", ChannelSocial},
		"org.telegram.messenger":                  {"Telegram", ChannelSocial},
		"com.whatsapp":                            {"WhatsApp", ChannelSocial},
		"com.pinterest":                           {"Pinterest", ChannelSocial},
		"com.zhiliaoapp.musically":                {"TikTok", ChannelSocial},
		"com.discord":                             {"Discord", ChannelSocial},
	}

	// clickSources is the network behind each ad click id, for visits
	// whose referrer was stripped.
	clickSources = map[string]source{
		ClickGoogle:         {"Google", ChannelSearch},
		ClickDoubleClick:    {"Google", ChannelSearch},
		ClickGoogleWebApp:   {"Google", ChannelSearch},
		ClickGoogleAppToWeb: {"Google", ChannelSearch},
		ClickMicrosoft:      {"Bing", ChannelSearch},
		ClickFacebook:       {"Facebook", ChannelSocial},
		ClickTikTok:         {"TikTok", ChannelSocial},
		ClickTwitter:        {"Twitter", ChannelSocial},
		ClickLinkedIn:       {"LinkedIn", ChannelSocial},
	}

	// sourceNames maps utm_source values to known sources: every display
	// name above, lower-cased, with and without spaces ("google", "hacker
	// news", "hackernews"), and common short forms. Values that are hosts ("chatgpt.com") go through lookupHost.
	sourceNames = indexSourceNames(map[string]source{
		"fb":     {"Facebook", ChannelSocial},
		"ig":     {"Instagram", ChannelSocial},
		"tw":     {"Twitter", ChannelSocial},
		"x":      {"Twitter", ChannelSocial},
		"li":     {"LinkedIn", ChannelSocial},
		"yt":     {"YouTube", ChannelSocial},
		"hn":     {"Hacker News", ChannelSocial},
		"bsky":   {"Bluesky", ChannelSocial},
		"openai": {"ChatGPT", ChannelAI},
		"ddg":    {"DuckDuckGo", ChannelSearch},
	})

	// publicSuffixes are two-label suffixes under which each registrable
	// domain has three labels: country second levels and hosting
	// platforms that give each customer a subdomain. A small subset of the
	// Public Suffix List, enough for the internal-referrer rule.
	publicSuffixes = map[string]bool{
		"co.uk": true, "org.uk": true, "ac.uk": true, "gov.uk": true, "me.uk": true,
		"com.au": true, "net.au": true, "org.au": true, "co.nz": true, "org.nz": true,
		"co.jp": true, "ne.jp": true, "or.jp": true, "co.kr": true, "co.in": true,
		"co.za": true, "co.il": true, "com.br": true, "com.mx": true, "com.ar": true,
		"com.tr": true, "com.cn": true, "com.hk": true, "com.tw": true, "com.sg": true,
		"github.io": true, "gitlab.io": true, "netlify.app": true, "vercel.app": true,
		"pages.dev": true, "workers.dev": true, "herokuapp.com": true, "web.app": true,
		"firebaseapp.com": true, "appspot.com": true, "blogspot.com": true,
		"wordpress.com": true, "substack.com": true, "tumblr.com": true,
		"azurewebsites.net": true, "fly.dev": true, "onrender.com": true,
		"neocities.org": true, "glitch.me": true,
	}

	paidMediums = map[string]bool{
		"cpc": true, "ppc": true, "cpm": true, "cpv": true, "cpa": true,
		"display": true, "banner": true, "retargeting": true, "remarketing": true,
	}

	mediumChannels = map[string]string{
		"social": ChannelSocial, "social-media": ChannelSocial, "social_media": ChannelSocial,
		"socialmedia": ChannelSocial, "social-network": ChannelSocial, "social_network": ChannelSocial,
		"sm": ChannelSocial, "organic_social": ChannelSocial, "organic-social": ChannelSocial,
		"organic": ChannelSearch, "organic_search": ChannelSearch, "organic-search": ChannelSearch,
		"seo":      ChannelSearch,
		"referral": ChannelReferral, "affiliate": ChannelReferral, "affiliates": ChannelReferral,
		"partner": ChannelReferral,
		"ai":      ChannelAI, "llm": ChannelAI,
	}
)

// indexSourceNames returns aliases plus every source of the tables above
// under its lower-cased display name.
func indexSourceNames(aliases map[string]source) map[string]source {
	names := make(map[string]source, len(aliases)+len(knownHosts))
	for _, table := range []map[string]source{knownHosts, brands, androidApps, clickSources, aliases} {
		for _, s := range table {
			name := strings.ToLower(s.name)
			names[name] = s
			names[strings.ReplaceAll(name, " ", "")] = s // "producthunt"
		}
	}
	for k, s := range aliases {
		names[k] = s
	}
	return names
}
