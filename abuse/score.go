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
// sophisticated (SIVT) invalid traffic.
const (
	ClassDeclaredCrawler = "givt_declared_crawler"
	ClassAutomation      = "sivt_automation"
)

// Signals is what the collector knows about one page load when it scores
// its events.
type Signals struct {
	DeclaredBot         bool // the UA is a declared crawler (uap-go, isbot, crawler-user-agents)
	Webdriver           bool // the snippet saw navigator.webdriver
	AutomationGlobals   int  // automation globals the snippet saw (__nightmare, cdc_, ...)
	HeadlessUA          bool // HeadlessChrome / PhantomJS in the UA
	IPPrefixChanged     bool // the token was issued to another /24 or /48
	ClientHintsMismatch bool // Sec-CH-UA disagrees with the User-Agent
	Network             NetClass
}

// Weights are the points each signal adds to the score (0..100 each; the
// score is capped at 100). Declared bots are not weighed: they are general
// invalid traffic whatever else is true.
type Weights struct {
	// Webdriver: navigator.webdriver was true. Default 80.
	Webdriver int `yaml:"webdriver"`
	// AutomationGlobals: globals that automation tools leave behind. Default 80.
	AutomationGlobals int `yaml:"automation_globals"`
	// HeadlessUA: HeadlessChrome or PhantomJS in the User-Agent. Default 80.
	HeadlessUA int `yaml:"headless_ua"`
	// ClientHintsMismatch: Sec-CH-UA disagrees with the User-Agent. Default 40.
	ClientHintsMismatch int `yaml:"client_hints_mismatch"`
	// Datacenter: a hosting provider's network. Default 50.
	Datacenter int `yaml:"datacenter"`
	// TorExit: a Tor exit node. Default 50.
	TorExit int `yaml:"tor_exit"`
	// PublicProxy: an open proxy. Default 40.
	PublicProxy int `yaml:"public_proxy"`
	// ResidentialProxy: a residential proxy network. Default 30.
	ResidentialProxy int `yaml:"residential_proxy"`
	// VPN: a commercial VPN; many real people use one. Default 10.
	VPN int `yaml:"vpn"`
	// IPPrefixChanged: the page load moved to another network (phones do).
	// Default 10.
	IPPrefixChanged int `yaml:"ip_prefix_changed"`
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
		Weights: Weights{Webdriver: 80, AutomationGlobals: 80, HeadlessUA: 80, ClientHintsMismatch: 40,
			Datacenter: 50, TorExit: 50, PublicProxy: 40, ResidentialProxy: 30, VPN: 10, IPPrefixChanged: 10},
		SuspectAt: 40,
		InvalidAt: 70,
	}
}

// Validate reports every problem at once.
func (c ScoreConfig) Validate() error {
	var errs []error
	w := c.Weights
	for name, v := range map[string]int{"webdriver": w.Webdriver, "automation_globals": w.AutomationGlobals, "headless_ua": w.HeadlessUA,
		"client_hints_mismatch": w.ClientHintsMismatch, "datacenter": w.Datacenter, "tor_exit": w.TorExit, "public_proxy": w.PublicProxy,
		"residential_proxy": w.ResidentialProxy, "vpn": w.VPN, "ip_prefix_changed": w.IPPrefixChanged} {
		if v < 0 || v > 100 {
			errs = append(errs, fmt.Errorf("scoring.weights.%s: must be 0..100", name))
		}
	}
	if c.SuspectAt < 1 || c.InvalidAt > 100 || c.SuspectAt >= c.InvalidAt {
		errs = append(errs, errors.New("scoring: want 1 <= suspect_at < invalid_at <= 100"))
	}
	return errors.Join(errs...)
}

// Score applies the signals with the configured weights: hard signals
// classify the event whatever the score; the rest add up (capped at 100),
// and the thresholds give the verdict.
func (c ScoreConfig) Score(s Signals) Result {
	var r Result
	add := func(on bool, points int, reason string) {
		if on {
			r.Score = uint8(min(100, int(r.Score)+points))
			r.Reasons = append(r.Reasons, reason)
		}
	}
	w := c.Weights
	if s.DeclaredBot {
		add(true, 100, "declared_bot")
		r.Class = ClassDeclaredCrawler
	}
	add(s.Webdriver, w.Webdriver, "webdriver")
	add(s.AutomationGlobals > 0, w.AutomationGlobals, "automation_globals")
	add(s.HeadlessUA, w.HeadlessUA, "headless_ua")
	// Networks: data centres and anonymisers are where bots live, but
	// real people use VPNs too, so these flag rather than condemn alone.
	add(s.Network.Hosting, w.Datacenter, "datacenter")
	add(s.Network.Tor, w.TorExit, "tor_exit")
	add(s.Network.PublicProxy, w.PublicProxy, "public_proxy")
	add(s.Network.ResidentialProxy, w.ResidentialProxy, "residential_proxy")
	add(s.Network.VPN, w.VPN, "vpn")
	add(s.ClientHintsMismatch, w.ClientHintsMismatch, "ua_client_hints_mismatch")
	add(s.IPPrefixChanged, w.IPPrefixChanged, "ip_prefix_changed")
	switch {
	case r.Class != "":
		r.Verdict = VerdictInvalid
	case int(r.Score) >= c.InvalidAt:
		r.Verdict, r.Class = VerdictInvalid, ClassAutomation
	case int(r.Score) >= c.SuspectAt:
		r.Verdict = VerdictSuspect
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
