package abuse

import "testing"

// BenchmarkScore measures scoring one event's signals: a clean browser
// (the common case) and one with several signals (reasons to list).
func BenchmarkScore(b *testing.B) {
	cfg := DefaultScoreConfig()
	for _, tc := range []struct {
		name string
		s    Signals
	}{
		{"clean", Signals{}},
		{"flagged", Signals{HeadlessUA: true, Webdriver: true, SoftwareGL: true, MissingAcceptLanguage: true, Network: NetClass{Hosting: true}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = cfg.Score(tc.s)
			}
		})
	}
}

// BenchmarkHeaderSignals measures the per-batch header checks the
// collector runs on a Chromium request: client hints and platform against
// the User-Agent, HTTP library, headless, fetch metadata, Accept-Language.
func BenchmarkHeaderSignals(b *testing.B) {
	const ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	const hints = `"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"`
	b.ReportAllocs()
	for b.Loop() {
		if ClientHintsMismatch(ua, hints) || PlatformMismatch(ua, `"Windows"`) || HTTPLibraryUA(ua) || HeadlessUA(ua) ||
			NonBrowserUA(ua) || MissingFetchMetadata(ua, "cors") || MissingAcceptLanguage("en-US,en;q=0.9") {
			b.Fatal("a real Chrome request flagged")
		}
	}
}
