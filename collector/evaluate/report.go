package evaluate

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/verityhq/verity/abuse"
)

// Report is the evaluation's result.
type Report struct {
	Data      string           `json:"data"`
	Samples   int              `json:"samples"`
	Scenarios []ScenarioResult `json:"scenarios"`
	Classes   []ClassResult    `json:"classes"`
	Targets   []TargetResult   `json:"targets"`
}

// ScenarioResult counts one scenario's outcomes.
type ScenarioResult struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	Set     string `json:"set"`
	Expect  string `json:"expect"`
	Target  string `json:"target,omitempty"`
	N       int    `json:"n"`
	OK      int    `json:"ok"`
	Suspect int    `json:"suspect"`
	Invalid int    `json:"invalid"`
	Refused int    `json:"refused"`
	// Met is how many samples got what Expect asks for.
	Met     int            `json:"met"`
	MetRate float64        `json:"met_rate"`
	Reasons map[string]int `json:"reasons"` // reason or refusal code -> samples
	Misses  []Outcome      `json:"misses"`  // the samples that did not meet Expect
}

// ClassResult is one label's precision, recall and false-positive rate when
// the scorer's verdict and class are read as a prediction: ok and suspect
// predict "human", invalid predicts the label its class names, a refusal
// predicts nothing.
type ClassResult struct {
	Label     string `json:"label"`
	N         int    `json:"n"`         // samples with this label
	Predicted int    `json:"predicted"` // samples predicted as this label
	Correct   int    `json:"correct"`   // both
	// Precision is Correct/Predicted (nil when nothing was predicted),
	// Recall Correct/N, FPR (Predicted−Correct)/(samples without the label).
	Precision *float64 `json:"precision"`
	Recall    float64  `json:"recall"`
	FPR       float64  `json:"fpr"`
}

// TargetResult is one target, measured.
type TargetResult struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	N           int     `json:"n"`
	Count       int     `json:"count"` // false positives, or samples caught
	Rate        float64 `json:"rate"`
	Threshold   float64 `json:"threshold"`
	AtMost      bool    `json:"at_most"` // Rate must be ≤ Threshold (else ≥)
	Pass        bool    `json:"pass"`
	// Info targets are reported but do not fail the evaluation.
	Info bool `json:"info,omitempty"`
}

// Failed reports whether a target was missed.
func (r *Report) Failed() bool {
	for _, t := range r.Targets {
		if !t.Info && !t.Pass {
			return true
		}
	}
	return false
}

// Run replays d through a fresh collector with the given scoring (nil: the
// defaults) and reports.
func Run(ctx context.Context, d *Data, scoring *abuse.ScoreConfig) (*Report, error) {
	// A fixed start keeps runs alike; the clock moves by each page load's
	// batching delay.
	clock := NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	c, err := Start(ctx, Options{ForwardedFor: true, Clock: clock, Scoring: scoring})
	if err != nil {
		return nil, err
	}
	out, err := Replay(ctx, c, clock, d, 4*runtime.GOMAXPROCS(0))
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return Build(d, out), nil
}

// Excluded reports whether a stored event is out of the statistics: invalid,
// or hard-classified (a class is only ever given with an invalid verdict
// today; a class alone counts too, should that change).
func Excluded(verdict, class string) bool {
	return verdict == abuse.VerdictInvalid || class != ""
}

// met reports whether an outcome is what expect asks for.
func met(expect string, o Outcome) bool {
	invalid := o.Refused != "" || Excluded(o.Verdict, o.Class)
	switch expect {
	case ExpectCounted:
		return !invalid
	case ExpectFlagged:
		return invalid || o.Verdict == abuse.VerdictSuspect
	default:
		return invalid
	}
}

// predicted is the label the scorer's answer names ("" for a refusal).
func predicted(o Outcome) string {
	switch {
	case o.Refused != "":
		return ""
	case !Excluded(o.Verdict, o.Class):
		return LabelHuman
	}
	return classLabel(o.Class)
}

// classLabel maps a stored class to a label by the words of the MRC
// taxonomy it uses, so that classes the scorer gains later map without a
// change here; an unknown class is its own label.
func classLabel(class string) string {
	for _, m := range []struct{ word, label string }{
		{"crawler", LabelDeclaredBot}, {"declared", LabelDeclaredBot},
		{"non_browser", LabelNonBrowser},
		{"automation", LabelAutomation}, {"headless", LabelAutomation},
		{"data_cent", LabelDatacenter}, {"datacent", LabelDatacenter}, {"hosting", LabelDatacenter},
		{"proxy", LabelAnonymiser}, {"tor", LabelAnonymiser}, {"vpn", LabelAnonymiser}, {"anonym", LabelAnonymiser},
		{"masquerade", LabelMasquerade},
	} {
		if strings.Contains(class, m.word) {
			return m.label
		}
	}
	if class == "" {
		return "invalid_unclassified"
	}
	return class
}

// Build computes the report from the outcomes of Replay.
func Build(d *Data, out []Outcome) *Report {
	r := &Report{Data: d.Dir, Samples: len(out)}
	byName := map[string]*ScenarioResult{}
	for _, s := range d.Scenarios {
		r.Scenarios = append(r.Scenarios, ScenarioResult{Name: s.Name, Label: s.Label, Set: s.Set, Expect: s.Expect, Target: s.Target, Reasons: map[string]int{}, Misses: []Outcome{}})
	}
	for i := range r.Scenarios {
		byName[r.Scenarios[i].Name] = &r.Scenarios[i]
	}
	scenario := map[string]Scenario{}
	for _, s := range d.Scenarios {
		scenario[s.Name] = s
	}
	classes := map[string]*ClassResult{}
	class := func(label string) *ClassResult {
		if classes[label] == nil {
			classes[label] = &ClassResult{Label: label}
		}
		return classes[label]
	}
	for _, o := range out {
		sr := byName[o.Scenario]
		sr.N++
		switch {
		case o.Refused != "":
			sr.Refused++
			sr.Reasons["refused:"+o.Refused]++
		case o.Verdict == abuse.VerdictInvalid:
			sr.Invalid++
		case o.Verdict == abuse.VerdictSuspect:
			sr.Suspect++
		default:
			sr.OK++
		}
		for _, reason := range o.Reasons {
			sr.Reasons[reason]++
		}
		if met(sr.Expect, o) {
			sr.Met++
		} else {
			sr.Misses = append(sr.Misses, o)
		}
		truth := scenario[o.Scenario].Label
		class(truth).N++
		if p := predicted(o); p != "" {
			class(p).Predicted++
			if p == truth {
				class(p).Correct++
			}
		}
	}
	for i := range r.Scenarios {
		r.Scenarios[i].MetRate = ratio(r.Scenarios[i].Met, r.Scenarios[i].N)
	}
	for _, label := range slices.Sorted(maps.Keys(classes)) {
		c := classes[label]
		if c.Predicted > 0 {
			p := ratio(c.Correct, c.Predicted)
			c.Precision = &p
		}
		c.Recall = ratio(c.Correct, c.N)
		c.FPR = ratio(c.Predicted-c.Correct, len(out)-c.N)
		r.Classes = append(r.Classes, *c)
	}
	slices.SortStableFunc(r.Classes, func(a, b ClassResult) int { return cmp.Compare(b.N, a.N) })
	r.Targets = []TargetResult{
		r.target(TargetBrowserFP, "real-browser false positives (held out)", "held_out", 0.001, true, false),
		r.target(TargetBotUA, "bot User-Agent recall (held out)", "held_out", 0.95, false, false),
		r.target(TargetAutomation, "automation profiles invalid", "", 0.99, false, false),
		r.target(TargetBotUA, "bot User-Agent recall (the lists' own examples)", "in_lists", 0.95, false, true),
	}
	return r
}

// target pools the scenarios tagged name (and of set, unless "").
func (r *Report) target(name, desc, set string, threshold float64, atMost, info bool) TargetResult {
	t := TargetResult{Name: name, Description: desc, Threshold: threshold, AtMost: atMost, Info: info}
	for _, s := range r.Scenarios {
		if s.Target != name || (set != "" && s.Set != set) {
			continue
		}
		t.N += s.N
		if atMost {
			t.Count += s.N - s.Met
		} else {
			t.Count += s.Met
		}
	}
	t.Rate = ratio(t.Count, t.N)
	t.Pass = t.N > 0 && ((atMost && t.Rate <= threshold) || (!atMost && t.Rate >= threshold))
	return t
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func pct(f float64) string { return fmt.Sprintf("%.2f%%", 100*f) }

// WriteText prints the report as tables; misses is how many missed samples
// to list per scenario (-1: all).
func (r *Report) WriteText(w io.Writer, misses int) error {
	fmt.Fprintf(w, "Verity abuse evaluation: %d page loads replayed through the collector (data: %s)\n\n", r.Samples, r.Data)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "scenario\tlabel\tset\tn\tok\tsuspect\tinvalid\trefused\texpect\tmet\t")
	for _, s := range r.Scenarios {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", s.Name, s.Label, s.Set, s.N, s.OK, s.Suspect, s.Invalid, s.Refused, s.Expect, pct(s.MetRate))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nPer class (ok and suspect predict human, invalid predicts its class's label, refusals predict nothing):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight|tabwriter.Debug)
	fmt.Fprintln(tw, "label\tsamples\tpredicted\tcorrect\tprecision\trecall\tFPR\t")
	for _, c := range r.Classes {
		prec := "-"
		if c.Precision != nil {
			prec = pct(*c.Precision)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t\n", c.Label, c.N, c.Predicted, c.Correct, prec, pct(c.Recall), pct(c.FPR))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nTargets:")
	for _, t := range r.Targets {
		verdict, op := "FAIL", "≥"
		if t.Pass {
			verdict = "PASS"
		}
		if t.Info {
			verdict = "info"
		}
		if t.AtMost {
			op = "≤"
		}
		fmt.Fprintf(w, "  %s  %s %s %s: %s (%d of %d)\n", verdict, t.Description, op, pct(t.Threshold), pct(t.Rate), t.Count, t.N)
	}
	fmt.Fprintln(w, "\nMissed samples (what each got; reasons fired per scenario):")
	for _, s := range r.Scenarios {
		fmt.Fprintf(w, "  %s: %d of %d missed; reasons: %s\n", s.Name, len(s.Misses), s.N, topReasons(s.Reasons, 6))
		for i, o := range s.Misses {
			if misses >= 0 && i >= misses {
				fmt.Fprintf(w, "    … %d more (--misses -1 lists them all)\n", len(s.Misses)-i)
				break
			}
			got := o.Verdict + " " + strings.Join(o.Reasons, ",")
			if o.Refused != "" {
				got = "refused " + o.Refused
			}
			fmt.Fprintf(w, "    %-40s %q\n", got, o.UA)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// topReasons lists the n most frequent reasons as "reason×count".
func topReasons(m map[string]int, n int) string {
	keys := slices.Sorted(maps.Keys(m))
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m[b], m[a]) })
	if len(keys) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range keys[:min(n, len(keys))] {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}
