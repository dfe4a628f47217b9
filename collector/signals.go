package collector

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/collector/enrich"
)

// requestHeaders are the headers the scorer compares with the User-Agent.
// They are copied (Fiber reuses its buffers after the handler returns).
type requestHeaders struct {
	userAgent, secCHUA, secCHUAPlatform, secFetchMode, acceptLanguage string
	prefetch                                                          bool
}

func readHeaders(c *fiber.Ctx) requestHeaders {
	return requestHeaders{
		userAgent:       c.Get(fiber.HeaderUserAgent),
		secCHUA:         c.Get("Sec-CH-UA"),
		secCHUAPlatform: c.Get("Sec-CH-UA-Platform"),
		secFetchMode:    c.Get("Sec-Fetch-Mode"),
		acceptLanguage:  c.Get(fiber.HeaderAcceptLanguage),
		prefetch:        abuse.Prefetch(c.Get("Sec-Purpose"), c.Get("Purpose"), c.Get("X-Moz")),
	}
}

// batchFlags are the page-load verdicts one batch's events carry: a
// landing pageview from a spam referrer, or a time zone far from the IP's
// country.
func batchFlags(events []wireEvent, country string, now time.Time) pageFlags {
	var f pageFlags
	for i := range events {
		e := &events[i]
		if e.Type != "pageview" {
			continue
		}
		if e.Referrer != "" {
			if ref, err := enrich.ParsePage(e.Referrer); err == nil && abuse.ReferrerSpam(ref.Hostname) {
				f.referrerSpam = true
			}
		}
		if abuse.TimezoneMismatch(e.TZ, country, now) {
			f.timezoneFar = true
		}
	}
	return f
}

// signals gathers what is known about a batch's page load for the scorer:
// the User-Agent and headers, the network, the token's verdicts, the
// snippet's automation signals (nil when this node never saw them) and the
// page load's flags.
func (h *Handler) signals(hd *requestHeaders, agent enrich.UA, network abuse.NetClass, v abuse.Verified, ws *wireSignals, flags pageFlags) abuse.Signals {
	ua := hd.userAgent
	s := abuse.Signals{
		HTTPLibrary:           abuse.HTTPLibraryUA(ua),
		DeclaredBot:           v.Tier == abuse.TierDeclaredBot || agent.Bot || h.bots.IsBot(ua),
		NonBrowserUA:          abuse.NonBrowserUA(ua),
		Prefetch:              hd.prefetch,
		ReferrerSpam:          flags.referrerSpam,
		HeadlessUA:            abuse.HeadlessUA(ua),
		ClientHintsMismatch:   abuse.ClientHintsMismatch(ua, hd.secCHUA),
		PlatformMismatch:      abuse.PlatformMismatch(ua, hd.secCHUAPlatform),
		MissingFetchMetadata:  abuse.MissingFetchMetadata(ua, hd.secFetchMode),
		MissingAcceptLanguage: abuse.MissingAcceptLanguage(hd.acceptLanguage),
		TimezoneMismatch:      flags.timezoneFar,
		FingerprintCluster:    flags.cluster,
		EventsTooSoon:         flags.tooSoon,
		Network:               network,
		IPPrefixChanged:       v.IPPrefixChanged,
	}
	if ws != nil {
		s.Webdriver = ws.Webdriver
		s.AutomationGlobals = len(ws.Globals)
		s.SoftwareGL = ws.SoftGL
		s.ImpossibleWindow = abuse.ImpossibleWindow(ws.Win)
		s.NoLanguages = ws.Langs == 0
		s.PermissionMismatch = abuse.PermissionMismatch(ws.Perm)
	}
	return s
}
