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
		{"data centre alone: flagged", Signals{Network: NetClass{Hosting: true}}, Result{Score: 50, Verdict: VerdictSuspect, Reasons: []string{"datacenter"}}},
		{"VPN alone: counted", Signals{Network: NetClass{VPN: true}}, Result{Score: 10, Verdict: VerdictOK, Reasons: []string{"vpn"}}},
		{"data centre with edited client hints: invalid", Signals{Network: NetClass{Hosting: true}, ClientHintsMismatch: true}, Result{Score: 90, Verdict: VerdictInvalid, Class: ClassAutomation, Reasons: []string{"datacenter", "ua_client_hints_mismatch"}}},
		{"client hints disagree", Signals{ClientHintsMismatch: true}, Result{Score: 40, Verdict: VerdictSuspect, Reasons: []string{"ua_client_hints_mismatch"}}},
		{"headless and globals, capped", Signals{HeadlessUA: true, AutomationGlobals: 2, IPPrefixChanged: true}, Result{Score: 100, Verdict: VerdictInvalid, Class: ClassAutomation, Reasons: []string{"automation_globals", "headless_ua", "ip_prefix_changed"}}},
	}
	for _, c := range cases {
		if got := Score(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Score = %+v, want %+v", c.name, got, c.want)
		}
	}
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
