package abuse

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// botUAs are declared bots, HTTP libraries and headless browsers.
var botUAs = []string{
	`Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)`,
	`Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.175 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)`,
	`Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)`,
	`Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)`,
	`Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)`,
	`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)`,
	`Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)`,
	`Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)`,
	`curl/8.5.0`,
	`Wget/1.21.4`,
	`python-requests/2.31.0`,
	`Go-http-client/1.1`,
	`Go-http-client/2.0`,
	`Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.6367.91 Safari/537.36`,
	`Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1`,
	`facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)`,
	`Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)`,
	`Slackbot 1.0 (+https://api.slack.com/robots)`,
	`Twitterbot/1.0`,
	`Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)`,
	`Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)`,
	`DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)`,
	`Mozilla/5.0 (compatible; DotBot/1.2; +https://opensiteexplorer.org/dotbot; help@moz.com)`,
	`Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)`,
	`Mozilla/5.0 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)`,
	`LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36 (compatible; Discordbot/2.0; +https://discordapp.com)`,
	`TelegramBot (like TwitterBot)`,
	`WhatsApp/2.23.20.0`,
	`Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot`,
	`Mozilla/5.0 (compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)`,
	`CCBot/2.0 (https://commoncrawl.org/faq/)`,
	`Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.0.0 Safari/537.36`,
	`axios/1.6.7`,
	`node-fetch/1.0 (+https://github.com/bitinn/node-fetch)`,
	`okhttp/4.12.0`,
	`Java/17.0.2`,
	`Apache-HttpClient/4.5.14 (Java/17.0.8)`,
	`Scrapy/2.11.0 (+https://scrapy.org)`,
	`Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)`,
	`Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Chrome-Lighthouse`,
	`Mozilla/5.0 (compatible; Google-InspectionTool/1.0;)`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 14_7_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.1.2 Mobile/15E148 Safari/604.1 (compatible; AdsBot-Google-Mobile; +http://www.google.com/mobile/adsbot.html)`,
}

// browserUAs are real browsers, including in-app browsers and the Google app,
// that must never be classified as bots.
var browserUAs = []string{
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36`,
	`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36`,
	`Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36`,
	`Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`,
	`Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36`,
	`Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36`,
	`Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.230 Mobile Safari/537.36`,
	`Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.153 Mobile/15E148 Safari/604.1`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Firefox/115.0`,
	`Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:132.0) Gecko/20100101 Firefox/132.0`,
	`Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0`,
	`Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0`,
	`Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/128.0 Mobile/15E148 Safari/605.1.15`,
	`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15`,
	`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Safari/605.1.15`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1`,
	`Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0`,
	`Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36 Edg/128.0.2739.67`,
	`Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 EdgA/131.0.0.0`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/126.2592.86 Mobile/15E148 Safari/605.1.15`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0`,
	`Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36 OPR/85.0.0.0`,
	`Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36`,
	`Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 305.0.0.25.110 (iPhone14,2; iOS 17_0; en_US; en; scale=3.00; 1170x2532; 532847220)`,
	`Mozilla/5.0 (Linux; Android 14; SM-G991B Build/UP1A.231005.007; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/131.0.6778.39 Mobile Safari/537.36 Instagram 357.0.0.25.101 Android (34/14; 480dpi; 1080x2177; samsung; SM-G991B; o1s; exynos2100; en_GB; 674675155)`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/442.0.0.40.113;FBBV/547856633;FBDV/iPhone15,3;FBMD/iPhone;FBSN/iOS;FBSV/17.1;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/548892960]`,
	`Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230805.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/428.0.0.26.108;]`,
	`Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/127.0.6533.103 Mobile Safari/537.36 GoogleApp/15.31.35.29.arm64`,
	`Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) GSA/325.0.649201112 Mobile/15E148 Safari/604.1`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Vivaldi/7.0.3495.18`,
	`Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 YaBrowser/24.12.0.0 Safari/537.36`,
	`Mozilla/5.0 (Linux; Android 12; Redmi Note 11) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36 XiaoMi/MiuiBrowser/14.10.0-gn`,
}

func newTestBotUA(t testing.TB, size int) *BotUA {
	t.Helper()
	b, err := NewBotUA(size)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBotUA(t *testing.T) {
	t.Parallel()
	b := newTestBotUA(t, 1000)
	for _, ua := range botUAs {
		if !b.IsBot(ua) {
			t.Errorf("IsBot(%q) = false, want true", ua)
		}
	}
	for _, ua := range browserUAs {
		if b.IsBot(ua) {
			t.Errorf("IsBot(%q) = true, want false", ua)
		}
	}
	if len(botUAs) < 30 || len(browserUAs) < 30 {
		t.Errorf("%d bot and %d browser UAs, want at least 30 each", len(botUAs), len(browserUAs))
	}
}

func TestBotUAHardGIVT(t *testing.T) {
	t.Parallel()
	b := newTestBotUA(t, 10)
	chrome := browserUAs[0]
	for name, tc := range map[string]struct {
		ua   string
		want bool
	}{
		"empty":          {"", true},
		"at limit":       {chrome + strings.Repeat(" ", MaxUALen-len(chrome)), false},
		"over limit":     {chrome + strings.Repeat(" ", MaxUALen-len(chrome)+1), true},
		"non-ASCII":      {strings.Replace(chrome, "Windows", "Wíndows", 1), true},
		"high byte":      {chrome + "\xff", true},
		"control byte":   {chrome + "\x00", true},
		"DEL":            {chrome + "\x7f", true},
		"tab is allowed": {strings.Replace(chrome, " ", "\t", 1), false},
	} {
		if got := b.IsBot(tc.ua); got != tc.want {
			t.Errorf("%s: IsBot = %v, want %v", name, got, tc.want)
		}
	}
}

// TestBotUAPatternsAccounted checks that every line of both pattern files is
// either compiled as it is or explicitly ported, and that no port is stale.
func TestBotUAPatternsAccounted(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	total, totalPorted := 0, 0
	for _, f := range []struct {
		name, data string
		lines      int
	}{
		{"isbot-patterns.txt", isbotPatterns, 206},
		{"crawler-user-agents.txt", crawlerPatterns, 1500},
	} {
		pats := splitPatterns(f.data)
		if n := strings.Count(f.data, "\n"); n != len(pats) || n != f.lines {
			t.Errorf("%s: %d lines, %d patterns, want %d of each (blank line or refreshed list?)", f.name, n, len(pats), f.lines)
		}
		_, asIs, ported, err := compileList(f.name, pats)
		if err != nil {
			t.Fatal(err)
		}
		if asIs+ported != len(pats) {
			t.Errorf("%s: %d compiled + %d ported != %d patterns", f.name, asIs, ported, len(pats))
		}
		for _, p := range pats {
			if _, ok := portedPatterns[p]; ok {
				used[p] = true
			}
		}
		total += len(pats)
		totalPorted += ported
	}
	for p := range portedPatterns {
		if !used[p] {
			t.Errorf("stale port %q: in no pattern file", p)
		}
	}
	if totalPorted != len(portedPatterns) {
		t.Errorf("%d patterns ported, want %d", totalPorted, len(portedPatterns))
	}
	t.Logf("%d patterns, %d ported", total, totalPorted)
}

// TestBotUAPorts checks each ported pattern against the answers of the
// upstream engine (JavaScript RegExp with the "i" flag, Node.js), recorded
// here by hand.
// portProbes are the strings every ported pattern is tried on; for each
// port, portMatches lists those that JavaScript's regex engine (Node) says
// the original pattern matches. Every other probe must not match.
var portProbes = []string{
	"news",
	"gnews",
	"NewsSapphire",
	"newssapphir",
	"x newsbot",
	"Google",
	"googlewv",
	"GoogleApp/1",
	"google/google",
	"x channel/google",
	"channel/google",
	"google pixel",
	"google pixe",
	"Google/googleX",
	"xgoogle/googlewv google",
	"googleap",
	"cubot",
	"Cubot X",
	"a cubot",
	"robot",
	"bots_x",
	"abot1",
	"scan",
	"camscan",
	"Camscanner scan",
	"xamscan",
	"libhttp",
	"http",
	"LibHttp http",
	"xlibhttp",
	"java",
	"Java;",
	"java/1.8",
	"javaj;",
	"j2me java;",
}

func TestBotUAPorts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		orig    string
		matches []string
	}{
		{`(?:^|[^g])news(?!sapphire)`, []string{"news", "newssapphir", "x newsbot"}},
		{`(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))`, []string{"Google", "channel/google", "google pixe", "xgoogle/googlewv google", "googleap"}},
		{`(?<! cu)bots?(?:\b|_)`, []string{"x newsbot", "cubot", "Cubot X", "robot", "bots_x"}},
		{`(?<!cam)scan`, []string{"scan", "Camscanner scan", "xamscan"}},
		{`(?<!lib)http`, []string{"http", "LibHttp http"}},
		{`java(?!;)`, []string{"java", "java/1.8", "javaj;"}},
	} {
		port, ok := portedPatterns[tc.orig]
		if !ok {
			t.Fatalf("no port for %q", tc.orig)
		}
		re, err := compileLower(port)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range portProbes {
			want := slices.Contains(tc.matches, s)
			if got := re.MatchString(strings.ToLower(s)); got != want {
				t.Errorf("port of %q on %q = %v, JavaScript says %v", tc.orig, s, got, want)
			}
		}
	}
}

func TestBotUACache(t *testing.T) {
	t.Parallel()
	b := newTestBotUA(t, 2)
	ua := browserUAs[0]
	if b.IsBot(ua) {
		t.Fatalf("IsBot(%q) = true", ua)
	}
	if v, ok := b.cache.Peek(ua); !ok || v {
		t.Fatalf("cache after a miss: %v, %v; want false, true", v, ok)
	}
	// A cached verdict is returned without matching: plant a wrong one.
	b.cache.Add(ua, true)
	if !b.IsBot(ua) {
		t.Error("IsBot ignored the cached verdict")
	}
	// The cache is bounded.
	b.IsBot(botUAs[0])
	b.IsBot(botUAs[1])
	if n := b.cache.Len(); n != 2 {
		t.Errorf("cache holds %d entries, want 2", n)
	}
	if _, ok := b.cache.Peek(ua); ok {
		t.Error("least recently used entry not evicted")
	}
	// Hard-GIVT UAs never enter the cache.
	b.IsBot("")
	if _, ok := b.cache.Peek(""); ok {
		t.Error("empty UA cached")
	}
}

func TestBotUAConcurrent(t *testing.T) {
	t.Parallel()
	b := newTestBotUA(t, 16)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				ua := browserUAs[(g+i)%len(browserUAs)]
				if b.IsBot(ua) {
					t.Errorf("IsBot(%q) = true", ua)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkBotUAHit(b *testing.B) {
	bu := newTestBotUA(b, 1000)
	ua := browserUAs[0]
	bu.IsBot(ua)
	b.ReportAllocs()
	for b.Loop() {
		bu.IsBot(ua)
	}
}

func BenchmarkBotUAMiss(b *testing.B) {
	bu := newTestBotUA(b, 1000)
	// Distinct UAs, more than the cache holds, so every call matches.
	uas := make([]string, 4096)
	for i := range uas {
		uas[i] = strings.Replace(browserUAs[i%len(browserUAs)], "537.36", "537."+strconv.Itoa(i), 1)
		uas[i] = strings.Replace(uas[i], "605.1.15", "605.1."+strconv.Itoa(i), 1)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bu.IsBot(uas[i%len(uas)])
		i++
	}
}
