package abuse

import (
	"reflect"
	"strings"
	"testing"
)

func TestScore(t *testing.T) {
	cases := []struct {
		name string
		in   Signals
		want Result
	}{
		{"clean", Signals{}, Result{Score: 0, Verdict: VerdictOK}},
		{"phone changed network", Signals{IPPrefixChanged: true}, Result{Score: 10, Verdict: VerdictOK, Reasons: []string{"ip_prefix_changed"}}},
		{"declared bot", Signals{DeclaredBot: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassDeclaredCrawler, Reasons: []string{"declared_bot"}}},
		{"webdriver", Signals{Webdriver: true}, Result{Score: 80, Verdict: VerdictInvalid, Class: ClassAutomation, Reasons: []string{"webdriver"}}},
		{"data centre alone: flagged, classed", Signals{Network: NetClass{Hosting: true}}, Result{Score: 50, Verdict: VerdictSuspect, Class: ClassDatacenter, Reasons: []string{"datacenter"}}},
		{"VPN alone: counted", Signals{Network: NetClass{VPN: true}}, Result{Score: 10, Verdict: VerdictOK, Reasons: []string{"vpn"}}},
		{"data centre with edited client hints: invalid", Signals{Network: NetClass{Hosting: true}, ClientHintsMismatch: true}, Result{Score: 90, Verdict: VerdictInvalid, Class: ClassDatacenter, Reasons: []string{"datacenter", "ua_client_hints_mismatch"}}},
		{"client hints disagree", Signals{ClientHintsMismatch: true}, Result{Score: 40, Verdict: VerdictSuspect, Class: ClassMasquerade, Reasons: []string{"ua_client_hints_mismatch"}}},
		{"non-browser client", Signals{NonBrowserUA: true, MissingAcceptLanguage: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassNonBrowser, Reasons: []string{"non_browser_ua", "missing_accept_language"}}},
		{"declared bot wins over non-browser", Signals{DeclaredBot: true, NonBrowserUA: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassDeclaredCrawler, Reasons: []string{"declared_bot", "non_browser_ua"}}},
		{"curl: a non-browser, though the bot lists have it too", Signals{HTTPLibrary: true, DeclaredBot: true, NonBrowserUA: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassNonBrowser, Reasons: []string{"http_library", "declared_bot", "non_browser_ua"}}},
		{"prefetch", Signals{Prefetch: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassPrefetch, Reasons: []string{"prefetch"}}},
		{"referrer spam", Signals{ReferrerSpam: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassActivityList, Reasons: []string{"referrer_spam"}}},
		{"farm: burst and cluster", Signals{PageviewBurst: true, FingerprintCluster: true}, Result{Score: 70, Verdict: VerdictInvalid, Class: ClassFarm, Reasons: []string{"pageview_burst", "fingerprint_cluster"}}},
		{"software GL alone: counted", Signals{SoftwareGL: true}, Result{Score: 30, Verdict: VerdictOK, Reasons: []string{"software_webgl"}}},
		{"stealth headless: GL, window, languages", Signals{SoftwareGL: true, ImpossibleWindow: true, NoLanguages: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassAutomation, Reasons: []string{"software_webgl", "impossible_window", "no_languages"}}},
		{"Tor with a far time zone", Signals{Network: NetClass{Tor: true}, TimezoneMismatch: true}, Result{Score: 65, Verdict: VerdictSuspect, Class: ClassProxy, Reasons: []string{"tor_exit", "timezone_mismatch"}}},
		{"headless and globals, capped", Signals{HeadlessUA: true, AutomationGlobals: 2, IPPrefixChanged: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassAutomation, Reasons: []string{"automation_globals", "headless_ua", "ip_prefix_changed"}}},
	}
	for _, c := range cases {
		if got := Score(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Score = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestEverySignalCounts turns on each weighed signal alone and checks it
// adds exactly its configured weight under its own reason code: a signal
// wired to the wrong field or weight fails here.
func TestEverySignalCounts(t *testing.T) {
	c := DefaultScoreConfig()
	seen := map[string]bool{}
	for i, w := range weighedSignals {
		*w.weight(&c.Weights) = 1 + i // distinct weights
	}
	for i, w := range weighedSignals {
		var s Signals
		switch w.reason {
		case "automation_globals":
			s.AutomationGlobals = 1
		case "datacenter":
			s.Network.Hosting = true
		case "tor_exit":
			s.Network.Tor = true
		case "public_proxy":
			s.Network.PublicProxy = true
		case "residential_proxy":
			s.Network.ResidentialProxy = true
		case "vpn":
			s.Network.VPN = true
		default:
			setBoolField(t, &s, w.reason)
		}
		got := c.Score(s)
		if int(got.Score) != 1+i || !reflect.DeepEqual(got.Reasons, []string{w.reason}) {
			t.Errorf("%s alone: %+v, want score %d and only its reason", w.reason, got, 1+i)
		}
		if seen[w.reason] {
			t.Errorf("reason %s listed twice", w.reason)
		}
		seen[w.reason] = true
	}
	if n := len(Reasons()); n < 25 {
		t.Errorf("%d signals, want at least 25", n)
	}
}

// setBoolField sets the Signals field a reason code names.
func setBoolField(t *testing.T, s *Signals, reason string) {
	t.Helper()
	fields := map[string]*bool{
		"webdriver": &s.Webdriver, "headless_ua": &s.HeadlessUA, "software_webgl": &s.SoftwareGL,
		"impossible_window": &s.ImpossibleWindow, "no_languages": &s.NoLanguages, "permission_mismatch": &s.PermissionMismatch,
		"pow_too_fast": &s.PoWTooFast, "events_too_soon": &s.EventsTooSoon, "dwell_no_interaction": &s.DwellNoInteraction,
		"ua_client_hints_mismatch": &s.ClientHintsMismatch, "ua_platform_mismatch": &s.PlatformMismatch,
		"missing_fetch_metadata": &s.MissingFetchMetadata, "missing_accept_language": &s.MissingAcceptLanguage,
		"timezone_mismatch": &s.TimezoneMismatch, "ip_prefix_changed": &s.IPPrefixChanged, "issuance_velocity": &s.HighIssuance,
		"pageview_burst": &s.PageviewBurst, "too_many_events": &s.TooManyEvents, "fingerprint_cluster": &s.FingerprintCluster,
	}
	f, ok := fields[reason]
	if !ok {
		t.Fatalf("no Signals field for %s", reason)
	}
	*f = true
}

func TestScoreConfig(t *testing.T) {
	if err := DefaultScoreConfig().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	c := DefaultScoreConfig()
	c.Weights.VPN = 60 // an operator who distrusts VPNs
	if got := c.Score(Signals{Network: NetClass{VPN: true}}); got.Verdict != VerdictSuspect || got.Score != 60 {
		t.Fatalf("VPN weight 60: %+v, want suspect 60", got)
	}
	c.SuspectAt, c.InvalidAt = 50, 55
	if got := c.Score(Signals{Network: NetClass{VPN: true}}); got.Verdict != VerdictInvalid {
		t.Fatalf("invalid_at 55: %+v, want invalid", got)
	}
	bad := DefaultScoreConfig()
	bad.Weights.Datacenter, bad.SuspectAt, bad.InvalidAt = 101, 80, 70
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "scoring.weights.datacenter") || !strings.Contains(err.Error(), "suspect_at < invalid_at") {
		t.Fatalf("Validate = %v, want both problems", err)
	}
}
