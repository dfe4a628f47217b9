package evaluate

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// The metrics from hand-counted outcomes: every field of the scenario,
// class and target results.
func TestBuildCountsAndRates(t *testing.T) {
	d := &Data{Dir: "x", Scenarios: []Scenario{
		{Name: "people", Label: LabelHuman, Set: "held_out", Expect: ExpectCounted, Target: TargetBrowserFP},
		{Name: "bots", Label: LabelDeclaredBot, Set: "held_out", Expect: ExpectInvalid, Target: TargetBotUA},
		{Name: "listed", Label: LabelDeclaredBot, Set: "in_lists", Expect: ExpectInvalid, Target: TargetBotUA},
		{Name: "robots", Label: LabelAutomation, Set: "held_out", Expect: ExpectInvalid, Target: TargetAutomation},
		{Name: "cloud", Label: LabelDatacenter, Set: "held_out", Expect: ExpectFlagged},
	}}
	ok := Outcome{Verdict: "ok"}
	suspect := Outcome{Verdict: "suspect", Reasons: []string{"datacenter"}}
	crawler := Outcome{Verdict: "invalid", Class: "givt_declared_crawler", Reasons: []string{"declared_bot"}}
	automated := Outcome{Verdict: "invalid", Class: "sivt_automation", Reasons: []string{"webdriver"}}
	refused := Outcome{Refused: "origin_not_allowed"}
	in := func(s string, os ...Outcome) []Outcome {
		for i := range os {
			os[i].Scenario = s
		}
		return os
	}
	var out []Outcome
	out = append(out, in("people", ok, ok, ok, suspect, crawler)...)                                       // 1 false positive of 5
	out = append(out, in("bots", crawler, crawler, ok, refused)...)                                        // 3 of 4 caught
	out = append(out, in("listed", crawler, crawler)...)                                                   // 2 of 2
	out = append(out, in("robots", automated, crawler, suspect)...)                                        // 2 of 3 invalid
	out = append(out, in("cloud", suspect, ok, Outcome{Verdict: "invalid", Class: "givt_data_centre"})...) // 2 of 3 flagged
	r := Build(d, out)

	want := []ScenarioResult{
		{Name: "people", Label: LabelHuman, Set: "held_out", Expect: ExpectCounted, Target: TargetBrowserFP, N: 5, OK: 3, Suspect: 1, Invalid: 1, Met: 4, MetRate: 0.8},
		{Name: "bots", Label: LabelDeclaredBot, Set: "held_out", Expect: ExpectInvalid, Target: TargetBotUA, N: 4, OK: 1, Invalid: 2, Refused: 1, Met: 3, MetRate: 0.75},
		{Name: "listed", Label: LabelDeclaredBot, Set: "in_lists", Expect: ExpectInvalid, Target: TargetBotUA, N: 2, Invalid: 2, Met: 2, MetRate: 1},
		{Name: "robots", Label: LabelAutomation, Set: "held_out", Expect: ExpectInvalid, Target: TargetAutomation, N: 3, Suspect: 1, Invalid: 2, Met: 2, MetRate: 2.0 / 3},
		{Name: "cloud", Label: LabelDatacenter, Set: "held_out", Expect: ExpectFlagged, N: 3, OK: 1, Suspect: 1, Invalid: 1, Met: 2, MetRate: 2.0 / 3},
	}
	for i, w := range want {
		g := r.Scenarios[i]
		g.Reasons, g.Misses = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("scenario %s:\n got %+v\nwant %+v", w.Name, g, w)
		}
	}
	if m := r.Scenarios[1].Misses; len(m) != 1 || m[0].Verdict != "ok" {
		t.Errorf("bots misses %+v, want the one ok", m)
	}
	if got := r.Scenarios[1].Reasons; got["declared_bot"] != 2 || got["refused:origin_not_allowed"] != 1 || len(got) != 2 {
		t.Errorf("bots reasons %v", got)
	}

	// 17 samples. human: 5 true; predicted human = 3 ok + 1 suspect (people)
	// + 1 ok (bots) + 1 suspect (robots) + 1 suspect + 1 ok (cloud) = 8, of
	// which 4 right. declared_bot: 6 true (4 bots + 2 listed); predicted = 1
	// (people) + 2 + 2 + 1 (robots) = 6, of which 4 right.
	type cls struct {
		n, pred, correct int
		prec             float64
		recall, fpr      float64
	}
	wantClasses := map[string]cls{
		LabelHuman:       {5, 8, 4, 0.5, 0.8, 4.0 / 12},
		LabelDeclaredBot: {6, 6, 4, 4.0 / 6, 4.0 / 6, 2.0 / 11},
		LabelAutomation:  {3, 1, 1, 1, 1.0 / 3, 0},
		LabelDatacenter:  {3, 1, 1, 1, 1.0 / 3, 0},
	}
	if len(r.Classes) != len(wantClasses) {
		t.Errorf("classes %+v", r.Classes)
	}
	for _, c := range r.Classes {
		w, found := wantClasses[c.Label]
		if !found || c.N != w.n || c.Predicted != w.pred || c.Correct != w.correct || c.Precision == nil || !near(*c.Precision, w.prec) || !near(c.Recall, w.recall) || !near(c.FPR, w.fpr) {
			t.Errorf("class %s: %+v (precision %v), want %+v", c.Label, c, deref(c.Precision), w)
		}
	}
	if r.Classes[0].Label != LabelDeclaredBot {
		t.Errorf("classes not ordered by size: %+v", r.Classes)
	}

	wantTargets := []TargetResult{
		{Name: TargetBrowserFP, N: 5, Count: 1, Rate: 0.2, Threshold: 0.001, AtMost: true},
		{Name: TargetBotUA, N: 4, Count: 3, Rate: 0.75, Threshold: 0.95},
		{Name: TargetAutomation, N: 3, Count: 2, Rate: 2.0 / 3, Threshold: 0.99},
		{Name: TargetBotUA, N: 2, Count: 2, Rate: 1, Threshold: 0.95, Pass: true, Info: true},
	}
	for i, w := range wantTargets {
		g := r.Targets[i]
		g.Description = ""
		if g != w {
			t.Errorf("target %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if !r.Failed() {
		t.Error("Failed() = false with three targets missed")
	}
	var text bytes.Buffer
	if err := r.WriteText(&text, 0); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"FAIL  real-browser false positives (held out) ≤ 0.10%: 20.00% (1 of 5)",
		"info  bot User-Agent recall (the lists' own examples) ≥ 95.00%: 100.00% (2 of 2)",
		"bots: 1 of 4 missed; reasons: declared_bot×2 refused:origin_not_allowed×1",
		"… 1 more (--misses -1 lists them all)",
	} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("report lacks %q:\n%s", line, text.String())
		}
	}

	// All targets met: not failed; a target without samples fails.
	pass := Build(d, append(in("people", ok), append(in("bots", crawler), in("robots", automated)...)...))
	if pass.Failed() {
		t.Errorf("all met, yet failed: %+v", pass.Targets)
	}
	d.Scenarios = d.Scenarios[:2]
	if empty := Build(d, append(in("people", ok), in("bots", crawler)...)); !empty.Failed() || empty.Targets[2].N != 0 {
		t.Errorf("automation target without samples passed: %+v", empty.Targets)
	}
}

// Classes the scorer does not have yet map by their taxonomy words.
func TestClassLabel(t *testing.T) {
	for class, want := range map[string]string{
		"givt_declared_crawler": LabelDeclaredBot, "sivt_automation": LabelAutomation, "givt_non_browser": LabelNonBrowser,
		"givt_data_centre": LabelDatacenter, "givt_datacenter": LabelDatacenter, "sivt_proxy": LabelAnonymiser,
		"sivt_masquerade": LabelMasquerade, "givt_prefetch": "givt_prefetch", "": "invalid_unclassified",
	} {
		if got := classLabel(class); got != want {
			t.Errorf("classLabel(%q) = %q, want %q", class, got, want)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
