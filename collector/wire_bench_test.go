package collector

import (
	"net/netip"
	"os"
	"testing"

	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/storage"
)

// BenchmarkDecodeEventRequest measures strict decoding and validation of
// the snippet's first batch (golden: pageview, two vitals, the DOM checks
// and the signal blob), the collector's largest ordinary body.
func BenchmarkDecodeEventRequest(b *testing.B) {
	body, err := os.ReadFile("../script/testdata/golden/batch_first.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var req eventRequest
		if err := decodeStrict(body, &req); err != nil {
			b.Fatal(err)
		}
		if err := req.validate(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVisitorID measures the cookie-less visitor hash (HMAC-SHA256 of
// site, IP and User-Agent under the day's salt), once per batch.
func BenchmarkVisitorID(b *testing.B) {
	salt := make([]byte, 32)
	site := uuid.New()
	ip := netip.MustParseAddr("203.0.113.7")
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	b.ReportAllocs()
	var sink uint64
	for b.Loop() {
		sink += visitorID(salt, site, ip, ua)
	}
	if sink == 0 {
		b.Log(sink)
	}
}

// BenchmarkBuildEvents measures enrichment and scoring of one verified
// first batch (UA from the cache, geo, page and referrer, visitor hash,
// session, the behaviour windows, every signal, the score, the DOM-check
// rows): everything between the replay check and the queue.
func BenchmarkBuildEvents(b *testing.B) {
	site := storage.Site{ID: uuid.New(), PublicKey: "pk_bench", AllowedOrigins: []string{"http://www.example.com"}}
	h := newTestHandler(b, Deps{Queue: &countingQueue{}, Sites: &fakeSites{sites: []storage.Site{site}}})
	body, err := os.ReadFile("../script/testdata/golden/batch_first.json")
	if err != nil {
		b.Fatal(err)
	}
	var req eventRequest
	if err := decodeStrict(body, &req); err != nil {
		b.Fatal(err)
	}
	const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	ip := netip.MustParseAddr("203.0.113.7")
	_, claims, err := h.issuer.Issue(abuse.IssueRequest{SiteID: site.ID, ClientIP: ip, UserAgent: ua, Origin: "http://www.example.com"})
	if err != nil {
		b.Fatal(err)
	}
	v := abuse.Verified{Claims: claims}
	hd := requestHeaders{userAgent: ua, secCHUA: `"Chromium";v="124", "Not-A.Brand";v="99"`, secCHUAPlatform: `"Linux"`, secFetchMode: "cors", acceptLanguage: "en-US,en;q=0.9"}
	counts := countBatch(req.Events, req.Seq)
	tally := abuse.PageLoadTally{Events: 4}
	b.ReportAllocs()
	rows := 0
	for b.Loop() {
		rows += len(h.buildEvents(&site, &req, v, ip, &hd, &counts, tally))
	}
	b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
}
