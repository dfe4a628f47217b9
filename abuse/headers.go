package abuse

import (
	"regexp"
	"strings"
)

var (
	chromeMajor = regexp.MustCompile(`Chrom(?:e|ium)/(\d+)\.`)
	brandMajor  = regexp.MustCompile(`;\s*v="(\d+)"`)
)

// ClientHintsMismatch reports whether a Chromium User-Agent and its
// Sec-CH-UA client hints disagree on the browser's major version: one of
// the two was edited, as automation and spoofing tools do. Without hints (a
// non-Chromium browser, or an insecure context where Chromium sends none)
// there is nothing to compare and it reports false.
func ClientHintsMismatch(userAgent, secCHUA string) bool {
	if secCHUA == "" {
		return false
	}
	m := chromeMajor.FindStringSubmatch(userAgent)
	if m == nil {
		// Hints from a UA that does not claim Chromium at all.
		return strings.Contains(secCHUA, `"Chromium"`)
	}
	for _, b := range brandMajor.FindAllStringSubmatch(secCHUA, -1) {
		if b[1] == m[1] {
			return false
		}
	}
	return true
}
