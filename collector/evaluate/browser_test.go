package evaluate

import (
	"net/http"
	"reflect"
	"testing"
)

const (
	chromeWin  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	edgeWin    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51"
	chromeAndr = "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36"
	samsung    = "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36"
	headlessUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"
	safariMac  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	safariOld  = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/15.6 Safari/605.1.15"
	criOS      = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1"
	firefoxLin = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
	chromeOld  = "Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36"
	curlUA     = "curl/8.5.0"
	grease124  = `"Not/A)Brand";v="8"`
	grease125  = `"Not_A Brand";v="24"`
	grease121  = `"Not/A)Brand";v="8"`
	grease156  = `"Not-A.Brand";v="99"`
)

// The browser model: which headers each browser sends to the collector's
// cross-site fetch, every header checked.
func TestBrowserHeaders(t *testing.T) {
	fetch := map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}
	base := func(ua, lang string, extra ...map[string]string) http.Header {
		h := http.Header{}
		for k, v := range map[string]string{"User-Agent": ua, "Content-Type": "text/plain;charset=UTF-8", "Origin": origin, "Referer": origin + "/", "Accept": "*/*", "Accept-Language": lang} {
			h.Set(k, v)
		}
		for _, m := range extra {
			for k, v := range m {
				if v == "" {
					h.Del(k)
				} else {
					h.Set(k, v)
				}
			}
		}
		return h
	}
	ch := func(v, mobile, platform string) map[string]string {
		return map[string]string{"Sec-CH-UA": v, "Sec-CH-UA-Mobile": mobile, "Sec-CH-UA-Platform": platform}
	}
	cases := []struct {
		name, kind string
		p          Profile
		want       http.Header
	}{
		{"Chrome on Windows", "browser", Profile{UA: chromeWin, Language: "de-DE"},
			base(chromeWin, "de-DE,de;q=0.9", fetch, ch(`"Google Chrome";v="124", "Chromium";v="124", `+grease124, "?0", `"Windows"`))},
		{"Edge names itself", "browser", Profile{UA: edgeWin},
			base(edgeWin, "en-US,en;q=0.9", fetch, ch(`"Microsoft Edge";v="124", "Chromium";v="124", `+grease124, "?0", `"Windows"`))},
		{"Chrome on Android", "browser", Profile{UA: chromeAndr, Language: "fr"},
			base(chromeAndr, "fr", fetch, ch(`"Google Chrome";v="125", "Chromium";v="125", `+grease125, "?1", `"Android"`))},
		{"Samsung Internet: its own version", "browser", Profile{UA: samsung},
			base(samsung, "en-US,en;q=0.9", fetch, ch(`"Samsung Internet";v="25", "Chromium";v="121", `+grease121, "?1", `"Android"`))},
		{"HeadlessChrome: Chromium brand only", "browser", Profile{UA: headlessUA},
			base(headlessUA, "en-US,en;q=0.9", fetch, ch(`"Chromium";v="156", `+grease156, "?0", `"Linux"`))},
		{"Safari 17.4: fetch metadata, no hints", "browser", Profile{UA: safariMac}, base(safariMac, "en-US,en;q=0.9", fetch)},
		{"Safari 15.6: neither", "browser", Profile{UA: safariOld}, base(safariOld, "en-US,en;q=0.9")},
		{"Chrome on iOS is WebKit", "browser", Profile{UA: criOS}, base(criOS, "en-US,en;q=0.9", fetch)},
		{"Firefox: its q value", "browser", Profile{UA: firefoxLin, Language: "en-GB"}, base(firefoxLin, "en-GB,en;q=0.5", fetch)},
		{"Chrome 70: no fetch metadata, no hints", "browser", Profile{UA: chromeOld}, base(chromeOld, "en-US,en;q=0.9")},
		{"bare", "bare", Profile{UA: curlUA}, http.Header{"User-Agent": {curlUA}, "Content-Type": {"text/plain;charset=UTF-8"}, "Origin": {origin}}},
		{"no Origin", "no_origin", Profile{UA: curlUA}, http.Header{"User-Agent": {curlUA}, "Content-Type": {"text/plain;charset=UTF-8"}}},
		{"no client hints", "no_client_hints", Profile{UA: chromeWin}, base(chromeWin, "en-US,en;q=0.9", fetch)},
		{"client hints of another version", "client_hints_mismatch", Profile{UA: chromeWin},
			base(chromeWin, "en-US,en;q=0.9", fetch, ch(`"Google Chrome";v="117", "Chromium";v="117", `+grease156, "?0", `"Windows"`))},
		{"platform of another system", "platform_mismatch", Profile{UA: chromeWin},
			base(chromeWin, "en-US,en;q=0.9", fetch, ch(`"Google Chrome";v="124", "Chromium";v="124", `+grease124, "?0", `"Linux"`))},
		{"Linux UA: platform Windows", "platform_mismatch", Profile{UA: headlessUA},
			base(headlessUA, "en-US,en;q=0.9", fetch, ch(`"Chromium";v="156", `+grease156, "?0", `"Windows"`))},
		{"no fetch metadata", "no_fetch_metadata", Profile{UA: chromeWin},
			base(chromeWin, "en-US,en;q=0.9", ch(`"Google Chrome";v="124", "Chromium";v="124", `+grease124, "?0", `"Windows"`))},
		{"no Accept-Language", "no_accept_language", Profile{UA: safariMac}, base(safariMac, "", fetch)},
		{"headless Chromium under a Windows UA", "headless_chromium", Profile{UA: chromeWin, Language: "de-DE"},
			base(chromeWin, "en-US,en;q=0.9", fetch, ch(`"Chromium";v="156", `+grease156, "?0", `"Linux"`))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := headers(tc.kind, tc.p)
			if tc.want.Get("Accept-Language") == "" {
				tc.want.Del("Accept-Language")
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("headers(%s):\n got %v\nwant %v", tc.kind, got, tc.want)
			}
		})
	}
}

// The signal blob of each kind, every field checked.
func TestBrowserSignals(t *testing.T) {
	desktop := Profile{UA: chromeWin, Language: "de-DE", Screen: [2]int{1920, 1080}, Viewport: [2]int{1903, 969}, Device: "desktop"}
	phone := Profile{UA: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		Language: "en", Screen: [2]int{390, 844}, Viewport: [2]int{390, 664}, Device: "mobile"}
	headless := Signals{Webdriver: true, Globals: []string{}, Langs: 2, SoftGL: true, Win: []int{780, 437, 780, 580}, Perm: "promptdefault"}
	cases := []struct {
		name, kind string
		p          Profile
		i          int
		want       *Signals
	}{
		{"desktop", "browser", desktop, 3, &Signals{Globals: []string{}, Langs: 2, Win: []int{1903, 969, 1919, 1057}, Perm: "promptdefault"}},
		{"desktop, notifications denied", "browser", desktop, 20, &Signals{Globals: []string{}, Langs: 2, Win: []int{1903, 969, 1903, 1074}, Perm: "denieddenied"}},
		{"desktop, notifications granted", "browser", desktop, 41, &Signals{Globals: []string{}, Langs: 2, Win: []int{1903, 969, 1919, 1095}, Perm: "grantedgranted"}},
		{"iPhone: screen outside, no Notification", "browser", phone, 2, &Signals{Globals: []string{}, Langs: 1, Win: []int{390, 664, 390, 844}}},
		{"no profile sizes", "browser", Profile{UA: chromeAndr}, 2, &Signals{Globals: []string{}, Langs: 2, Win: []int{390, 664, 390, 844}, Perm: "promptdefault"}},
		{"none", "none", desktop, 3, nil},
		{"webdriver", "webdriver", desktop, 3, &Signals{Webdriver: true, Globals: []string{}, Langs: 2, Win: []int{1903, 969, 1919, 1057}, Perm: "promptdefault"}},
		{"globals", "globals", desktop, 3, &Signals{Globals: []string{"cdc_adoQpoasnfa76pfcZLmcfl_Array", "cdc_adoQpoasnfa76pfcZLmcfl_Promise", "cdc_adoQpoasnfa76pfcZLmcfl_Symbol"}, Langs: 2, Win: []int{1903, 969, 1919, 1057}, Perm: "promptdefault"}},
		{"software GL", "software_gl", desktop, 3, &Signals{Globals: []string{}, Langs: 2, SoftGL: true, Win: []int{1903, 969, 1919, 1057}, Perm: "promptdefault"}},
		{"headless", "headless", desktop, 3, &headless},
		{"patched flags", "patched_flags", desktop, 3, &Signals{Globals: []string{}, Langs: 2, SoftGL: true, Win: []int{780, 437, 780, 580}, Perm: "promptdefault"}},
		{"stealth is a browser", "stealth", desktop, 3, &Signals{Globals: []string{}, Langs: 2, Win: []int{1903, 969, 1919, 1057}, Perm: "promptdefault"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := signals(tc.kind, tc.p, tc.i); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("signals(%s):\n got %+v\nwant %+v", tc.kind, got, tc.want)
			}
		})
	}
}
