package abuse

import (
	"errors"
	"fmt"
)

// Verdicts stored with every event.
const (
	VerdictOK      = "ok"      // counted
	VerdictSuspect = "suspect" // counted, flagged
	VerdictInvalid = "invalid" // stored, excluded from default statistics
)

// Invalid-traffic classes, after the MRC/IAB taxonomy: general (GIVT) and
// sophisticated (SIVT) invalid traffic. A flagged or invalid event carries
// one: the class of its hard signal, else of its heaviest signal.
const (
	ClassDeclaredCrawler = "givt_declared_crawler" // says it is a bot
	ClassNonBrowser      = "givt_non_browser"      // an HTTP library or tool, not a browser
	ClassPrefetch        = "givt_prefetch"         // a prefetch or prerender, not a view
	ClassActivityList    = "givt_activity_list"    // on a list: referrer spam, a site's deny rule
	ClassDatacenter      = "givt_datacenter"       // from a hosting provider's network
	ClassAutomation      = "sivt_automation"       // a browser driven by a program
	ClassMasquerade      = "sivt_masquerade"       // a client pretending to be another
	ClassProxy           = "sivt_proxy"            // hidden behind Tor, a proxy or a VPN
	ClassFarm            = "sivt_farm"             // volume: bursts, velocity, clusters of identical machines
)

// Signals is what the collector knows about one page load when it scores
// its events. Each field is set by a small function of its own (see
// signals.go and the behaviour trackers); docs/abuse.md explains them all.
type Signals struct {
	// Hard signals: any one classifies the event as general invalid
	// traffic, whatever the weights.
	HTTPLibrary  bool // HTTPLibraryUA: the UA names an HTTP library or tool
	DeclaredBot  bool // the UA is a declared crawler (uap-go, isbot, crawler-user-agents)
	NonBrowserUA bool // NonBrowserUA: empty, huge, non-ASCII or not Mozilla-style
	Prefetch     bool // Prefetch: a prefetch or prerender request
	ReferrerSpam bool // ReferrerSpam: the referrer is a known spam domain

	// The page, as the snippet reports it (client-side, so weighed).
	Webdriver          bool // navigator.webdriver
	AutomationGlobals  int  // automation globals seen (__nightmare, cdc_, ...)
	HeadlessUA         bool // HeadlessChrome / PhantomJS in the UA
	SoftwareGL         bool // a software WebGL renderer (SwiftShader, llvmpipe)
	ImpossibleWindow   bool // ImpossibleWindow: no outer window around the page
	NoLanguages        bool // navigator.languages is empty
	PermissionMismatch bool // PermissionMismatch: the permission APIs disagree

	// Headers against the User-Agent.
	ClientHintsMismatch   bool // ClientHintsMismatch: Sec-CH-UA vs the UA's version
	PlatformMismatch      bool // PlatformMismatch: Sec-CH-UA-Platform vs the UA's OS
	MissingFetchMetadata  bool // MissingFetchMetadata: a modern browser without Sec-Fetch-*
	MissingAcceptLanguage bool // no Accept-Language, which every browser sends
	TimezoneMismatch      bool // TimezoneMismatch: the page's time zone is far from the IP's country

	// The network.
	Network         NetClass
	IPPrefixChanged bool // the token was issued to another /24 or /48

	// Behaviour.
	PoWTooFast         bool // the proof of work was solved faster than a browser can
	EventsTooSoon      bool // the first batch came sooner after the challenge than the work takes
	HighIssuance       bool // the IP prefix mints tokens at a high rate
	PageviewBurst      bool // the visitor's pageviews come in a burst
	TooManyEvents      bool // the page load sent more events than people do
	DwellNoInteraction bool // a long visible dwell without any scrolling
	FingerprintCluster bool // many networks share one exact machine fingerprint
}

// Weights are the points each signal adds to the score (0..100 each; the
// score is capped at 100). Hard signals are not weighed.
type Weights struct {
	// Webdriver: navigator.webdriver was true. Default 80.
	Webdriver int `yaml:"webdriver"`
	// AutomationGlobals: globals that automation tools leave behind. Default 80.
	AutomationGlobals int `yaml:"automation_globals"`
	// HeadlessUA: HeadlessChrome or PhantomJS in the User-Agent. Default 80.
	HeadlessUA int `yaml:"headless_ua"`
	// SoftwareGL: a software WebGL renderer, as on GPU-less servers (and
	// some virtual desktops). Default 30.
	SoftwareGL int `yaml:"software_webgl"`
	// ImpossibleWindow: the page has no outer window. Default 40.
	ImpossibleWindow int `yaml:"impossible_window"`
	// NoLanguages: navigator.languages is empty. Default 40.
	NoLanguages int `yaml:"no_languages"`
	// PermissionMismatch: notifications denied while the Permissions API
	// says "prompt", as in old headless Chromium. Default 40.
	PermissionMismatch int `yaml:"permission_mismatch"`
	// ClientHintsMismatch: Sec-CH-UA disagrees with the User-Agent. Default 40.
	ClientHintsMismatch int `yaml:"client_hints_mismatch"`
	// PlatformMismatch: Sec-CH-UA-Platform disagrees with the User-Agent's
	// operating system. Default 40.
	PlatformMismatch int `yaml:"platform_mismatch"`
	// MissingFetchMetadata: a browser version that always sends Sec-Fetch-*
	// headers sent none. Default 40.
	MissingFetchMetadata int `yaml:"missing_fetch_metadata"`
	// MissingAcceptLanguage: no Accept-Language header. Default 40.
	MissingAcceptLanguage int `yaml:"missing_accept_language"`
	// TimezoneMismatch: the page's time zone is three hours or more from
	// every zone of the IP's country (travellers and VPN users too).
	// Default 15.
	TimezoneMismatch int `yaml:"timezone_mismatch"`
	// Datacenter: a hosting provider's network. Default 50.
	Datacenter int `yaml:"datacenter"`
	// TorExit: a Tor exit node. Default 50.
	TorExit int `yaml:"tor_exit"`
	// PublicProxy: an open proxy. Default 40.
	PublicProxy int `yaml:"public_proxy"`
	// ResidentialProxy: a residential proxy network. Default 40.
	ResidentialProxy int `yaml:"residential_proxy"`
	// VPN: a commercial VPN; many real people use one. Default 10.
	VPN int `yaml:"vpn"`
	// IPPrefixChanged: the page load moved to another network (phones do).
	// Default 10.
	IPPrefixChanged int `yaml:"ip_prefix_changed"`
	// PoWTooFast: the reported solve time is faster than any browser
	// hashes (client-reported). Default 40.
	PoWTooFast int `yaml:"pow_too_fast"`
	// EventsTooSoon: the first events arrived sooner after the challenge
	// than the proof of work takes in the fastest browser. Default 40.
	EventsTooSoon int `yaml:"events_too_soon"`
	// IssuanceVelocity: the network asks for page-load tokens at a high
	// rate. Default 30.
	IssuanceVelocity int `yaml:"issuance_velocity"`
	// PageviewBurst: many pageviews from one visitor within seconds.
	// Default 30.
	PageviewBurst int `yaml:"pageview_burst"`
	// TooManyEvents: more events in one page load than people produce.
	// Default 30.
	TooManyEvents int `yaml:"too_many_events"`
	// DwellNoInteraction: a long visible dwell without scrolling. Default 20.
	DwellNoInteraction int `yaml:"dwell_no_interaction"`
	// FingerprintCluster: many networks share one machine fingerprint
	// within minutes, as a bot farm's identical machines do. Default 40.
	FingerprintCluster int `yaml:"fingerprint_cluster"`
}

// ScoreConfig tunes the scorer.
type ScoreConfig struct {
	Weights Weights `yaml:"weights"`
	// SuspectAt is the score from which an event is flagged (counted, shown
	// as suspicious). Default 40.
	SuspectAt int `yaml:"suspect_at"`
	// InvalidAt is the score from which an event is invalid (excluded from
	// default statistics). Default 70.
	InvalidAt int `yaml:"invalid_at"`
}

// DefaultScoreConfig returns the documented defaults.
func DefaultScoreConfig() ScoreConfig {
	return ScoreConfig{
		Weights: Weights{
			Webdriver: 80, AutomationGlobals: 80, HeadlessUA: 80, SoftwareGL: 30, ImpossibleWindow: 40, NoLanguages: 40,
			PermissionMismatch: 40, ClientHintsMismatch: 40, PlatformMismatch: 40, MissingFetchMetadata: 40,
			MissingAcceptLanguage: 40, TimezoneMismatch: 15, Datacenter: 50, TorExit: 50, PublicProxy: 40,
			ResidentialProxy: 40, VPN: 10, IPPrefixChanged: 10, PoWTooFast: 40, EventsTooSoon: 40,
			IssuanceVelocity: 30, PageviewBurst: 30, TooManyEvents: 30, DwellNoInteraction: 20, FingerprintCluster: 40,
		},
		SuspectAt: 40,
		InvalidAt: 70,
	}
}

// hardSignals classify on their own, in this order of precedence.
var hardSignals = []struct {
	reason, class string
	on            func(*Signals) bool
}{
	{"http_library", ClassNonBrowser, func(s *Signals) bool { return s.HTTPLibrary }},
	{"declared_bot", ClassDeclaredCrawler, func(s *Signals) bool { return s.DeclaredBot }},
	{"non_browser_ua", ClassNonBrowser, func(s *Signals) bool { return s.NonBrowserUA }},
	{"prefetch", ClassPrefetch, func(s *Signals) bool { return s.Prefetch }},
	{"referrer_spam", ClassActivityList, func(s *Signals) bool { return s.ReferrerSpam }},
}

// weighedSignals add their weight when on. The reason is the config key
// too (scoring.weights.<reason>), except where the stored reason code
// predates the key.
var weighedSignals = []struct {
	reason, key, class string
	on                 func(*Signals) bool
	weight             func(*Weights) *int
}{
	{"webdriver", "", ClassAutomation, func(s *Signals) bool { return s.Webdriver }, func(w *Weights) *int { return &w.Webdriver }},
	{"automation_globals", "", ClassAutomation, func(s *Signals) bool { return s.AutomationGlobals > 0 }, func(w *Weights) *int { return &w.AutomationGlobals }},
	{"headless_ua", "", ClassAutomation, func(s *Signals) bool { return s.HeadlessUA }, func(w *Weights) *int { return &w.HeadlessUA }},
	{"software_webgl", "", ClassAutomation, func(s *Signals) bool { return s.SoftwareGL }, func(w *Weights) *int { return &w.SoftwareGL }},
	{"impossible_window", "", ClassAutomation, func(s *Signals) bool { return s.ImpossibleWindow }, func(w *Weights) *int { return &w.ImpossibleWindow }},
	{"no_languages", "", ClassAutomation, func(s *Signals) bool { return s.NoLanguages }, func(w *Weights) *int { return &w.NoLanguages }},
	{"permission_mismatch", "", ClassAutomation, func(s *Signals) bool { return s.PermissionMismatch }, func(w *Weights) *int { return &w.PermissionMismatch }},
	{"pow_too_fast", "", ClassAutomation, func(s *Signals) bool { return s.PoWTooFast }, func(w *Weights) *int { return &w.PoWTooFast }},
	{"events_too_soon", "", ClassAutomation, func(s *Signals) bool { return s.EventsTooSoon }, func(w *Weights) *int { return &w.EventsTooSoon }},
	{"dwell_no_interaction", "", ClassAutomation, func(s *Signals) bool { return s.DwellNoInteraction }, func(w *Weights) *int { return &w.DwellNoInteraction }},
	{"datacenter", "", ClassDatacenter, func(s *Signals) bool { return s.Network.Hosting }, func(w *Weights) *int { return &w.Datacenter }},
	{"tor_exit", "", ClassProxy, func(s *Signals) bool { return s.Network.Tor }, func(w *Weights) *int { return &w.TorExit }},
	{"public_proxy", "", ClassProxy, func(s *Signals) bool { return s.Network.PublicProxy }, func(w *Weights) *int { return &w.PublicProxy }},
	{"residential_proxy", "", ClassProxy, func(s *Signals) bool { return s.Network.ResidentialProxy }, func(w *Weights) *int { return &w.ResidentialProxy }},
	{"vpn", "", ClassProxy, func(s *Signals) bool { return s.Network.VPN }, func(w *Weights) *int { return &w.VPN }},
	{"ua_client_hints_mismatch", "client_hints_mismatch", ClassMasquerade, func(s *Signals) bool { return s.ClientHintsMismatch }, func(w *Weights) *int { return &w.ClientHintsMismatch }},
	{"ua_platform_mismatch", "platform_mismatch", ClassMasquerade, func(s *Signals) bool { return s.PlatformMismatch }, func(w *Weights) *int { return &w.PlatformMismatch }},
	{"missing_fetch_metadata", "", ClassMasquerade, func(s *Signals) bool { return s.MissingFetchMetadata }, func(w *Weights) *int { return &w.MissingFetchMetadata }},
	{"missing_accept_language", "", ClassMasquerade, func(s *Signals) bool { return s.MissingAcceptLanguage }, func(w *Weights) *int { return &w.MissingAcceptLanguage }},
	{"timezone_mismatch", "", ClassMasquerade, func(s *Signals) bool { return s.TimezoneMismatch }, func(w *Weights) *int { return &w.TimezoneMismatch }},
	{"ip_prefix_changed", "", ClassProxy, func(s *Signals) bool { return s.IPPrefixChanged }, func(w *Weights) *int { return &w.IPPrefixChanged }},
	{"issuance_velocity", "", ClassFarm, func(s *Signals) bool { return s.HighIssuance }, func(w *Weights) *int { return &w.IssuanceVelocity }},
	{"pageview_burst", "", ClassFarm, func(s *Signals) bool { return s.PageviewBurst }, func(w *Weights) *int { return &w.PageviewBurst }},
	{"too_many_events", "", ClassFarm, func(s *Signals) bool { return s.TooManyEvents }, func(w *Weights) *int { return &w.TooManyEvents }},
	{"fingerprint_cluster", "", ClassFarm, func(s *Signals) bool { return s.FingerprintCluster }, func(w *Weights) *int { return &w.FingerprintCluster }},
}

// Reasons lists every reason code the scorer can give, hard ones first,
// for documentation and the dashboard's legend.
func Reasons() []string {
	out := make([]string, 0, len(hardSignals)+len(weighedSignals))
	for _, h := range hardSignals {
		out = append(out, h.reason)
	}
	for _, w := range weighedSignals {
		out = append(out, w.reason)
	}
	return out
}

// Validate reports every problem at once.
func (c ScoreConfig) Validate() error {
	var errs []error
	for _, s := range weighedSignals {
		if v := *s.weight(&c.Weights); v < 0 || v > 100 {
			key := s.key
			if key == "" {
				key = s.reason
			}
			errs = append(errs, fmt.Errorf("scoring.weights.%s: must be 0..100", key))
		}
	}
	if c.SuspectAt < 1 || c.InvalidAt > 100 || c.SuspectAt >= c.InvalidAt {
		errs = append(errs, errors.New("scoring: want 1 <= suspect_at < invalid_at <= 100"))
	}
	return errors.Join(errs...)
}

// Score applies the signals with the configured weights: a hard signal
// classifies the event whatever the score; the rest add up (capped at
// 100), and the thresholds give the verdict. A flagged or invalid event
// without a hard signal takes the class of its heaviest signal (the first
// listed on a tie).
func (c ScoreConfig) Score(s Signals) Result {
	var r Result
	for _, h := range hardSignals {
		if h.on(&s) {
			r.Reasons = append(r.Reasons, h.reason)
			if r.Class == "" {
				r.Score, r.Class = 100, h.class
			}
		}
	}
	heaviest, class := -1, ""
	for _, w := range weighedSignals {
		if !w.on(&s) {
			continue
		}
		points := *w.weight(&c.Weights)
		r.Score = uint8(min(100, int(r.Score)+points))
		r.Reasons = append(r.Reasons, w.reason)
		if points > heaviest {
			heaviest, class = points, w.class
		}
	}
	switch {
	case r.Class != "":
		r.Verdict = VerdictInvalid
	case int(r.Score) >= c.InvalidAt:
		r.Verdict, r.Class = VerdictInvalid, class
	case int(r.Score) >= c.SuspectAt:
		r.Verdict, r.Class = VerdictSuspect, class
	default:
		r.Verdict = VerdictOK
	}
	return r
}

// Result is a score 0..100 with its verdict, class and reason codes.
type Result struct {
	Score   uint8
	Verdict string
	Class   string
	Reasons []string
}

// Score scores with the default configuration.
func Score(s Signals) Result { return DefaultScoreConfig().Score(s) }
