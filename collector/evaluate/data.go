package evaluate

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Labels: what a sample truly is.
const (
	LabelHuman       = "human"        // a person in a real browser
	LabelDeclaredBot = "declared_bot" // a crawler that names itself in its User-Agent
	LabelNonBrowser  = "non_browser"  // an HTTP library or headless tool, not a browser
	LabelAutomation  = "automation"   // a browser driven by automation
	LabelDatacenter  = "datacenter"   // a browser on a hosting provider's network
	LabelAnonymiser  = "anonymiser"   // Tor, public or residential proxies
	LabelMasquerade  = "masquerade"   // a client whose headers contradict its User-Agent
)

// Expectations: the least the scorer must do with a sample for it to count
// as handled.
const (
	ExpectCounted = "counted" // ok or suspect: a person stays in the statistics
	ExpectFlagged = "flagged" // suspect, invalid or refused
	ExpectInvalid = "invalid" // invalid or refused: out of the statistics
)

// Targets (issue 4, docs/abuse.md "Evaluation"): the scenarios tagged with
// one are pooled to measure it.
const (
	TargetBrowserFP  = "browser_fp" // real-browser false positives ≤ 0.1 %
	TargetBotUA      = "bot_ua"     // bot User-Agent recall ≥ 95 % (held-out data)
	TargetAutomation = "automation" // automation profiles invalid ≥ 99 %
)

// Scenario is one kind of labelled traffic: every sample of a corpus sent as
// a page load from one kind of network, with one set of headers and one
// signal blob. Scenarios are data (scenarios.yaml), so a new one needs no
// code unless it needs a new kind of header or signal.
type Scenario struct {
	Name  string `yaml:"name"`
	Label string `yaml:"label"`
	// Set says whether the corpus was used to build the bot lists:
	// "held_out" or "in_lists". Results are reported apart.
	Set    string `yaml:"set"`
	Corpus string `yaml:"corpus"` // a file beside scenarios.yaml
	// Only keeps the corpus lines of one browser family: "" (all),
	// "chromium" (a Chromium with client hints, 89+).
	Only string `yaml:"only"`
	// Limit takes that many samples spread evenly over the corpus; 0 takes
	// them all.
	Limit   int    `yaml:"limit"`
	Network string `yaml:"network"` // see networks
	UA      string `yaml:"ua"`      // "" (as is) or "headless": Chrome/ becomes HeadlessChrome/
	Headers string `yaml:"headers"` // see headerKinds
	Signals string `yaml:"signals"` // see signalKinds
	Expect  string `yaml:"expect"`
	Target  string `yaml:"target"` // "" or a Target*
	Note    string `yaml:"note"`
}

// Profile is one corpus line: a User-Agent and, where the source has them,
// what the browser reported about itself.
type Profile struct {
	UA       string
	Language string // navigator.language, "" when unknown
	Screen   [2]int // screen width and height, 0 when unknown
	Viewport [2]int // innerWidth and innerHeight, 0 when unknown
	Device   string // desktop, mobile, tablet or ""
}

// Data is a loaded data directory.
type Data struct {
	Dir       string
	Scenarios []Scenario
	Corpora   map[string][]Profile
}

// LoadData reads scenarios.yaml and every corpus it names from dir,
// reporting every problem at once.
func LoadData(dir string) (*Data, error) {
	b, err := os.ReadFile(filepath.Join(dir, "scenarios.yaml"))
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	var file struct {
		Scenarios []Scenario `yaml:"scenarios"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("evaluate: %s: %w", filepath.Join(dir, "scenarios.yaml"), err)
	}
	d := &Data{Dir: dir, Scenarios: file.Scenarios, Corpora: map[string][]Profile{}}
	var errs []error
	names := map[string]bool{}
	for i, s := range d.Scenarios {
		problems := s.validate()
		for _, err := range problems {
			errs = append(errs, fmt.Errorf("scenario %d (%s): %w", i+1, s.Name, err))
		}
		if names[s.Name] {
			errs = append(errs, fmt.Errorf("scenario %d: name %q used twice", i+1, s.Name))
		}
		names[s.Name] = true
		if _, ok := d.Corpora[s.Corpus]; ok || len(problems) > 0 {
			continue
		}
		c, err := readCorpus(filepath.Join(dir, s.Corpus))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d.Corpora[s.Corpus] = c
	}
	if len(d.Scenarios) == 0 {
		errs = append(errs, errors.New("no scenarios"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("evaluate: %s:\n%w", dir, err)
	}
	return d, nil
}

func (s Scenario) validate() []error {
	var errs []error
	oneOf := func(field, v string, allowed ...string) {
		if slices.Contains(allowed, v) {
			return
		}
		shown := slices.Clone(allowed)
		if i := slices.Index(shown, ""); i >= 0 {
			shown[i] = `""`
		}
		errs = append(errs, fmt.Errorf("%s %q: want one of %s", field, v, strings.Join(shown, ", ")))
	}
	if s.Name == "" {
		errs = append(errs, errors.New("name: required"))
	}
	if s.Corpus == "" || filepath.Base(s.Corpus) != s.Corpus {
		errs = append(errs, fmt.Errorf("corpus %q: want a file name beside scenarios.yaml", s.Corpus))
	}
	oneOf("label", s.Label, LabelHuman, LabelDeclaredBot, LabelNonBrowser, LabelAutomation, LabelDatacenter, LabelAnonymiser, LabelMasquerade)
	oneOf("set", s.Set, "held_out", "in_lists")
	oneOf("only", s.Only, "", "chromium")
	oneOf("network", s.Network, slices.Sorted(maps.Keys(networks))...)
	oneOf("ua", s.UA, "", "headless")
	oneOf("headers", s.Headers, headerKinds...)
	oneOf("signals", s.Signals, signalKinds...)
	oneOf("expect", s.Expect, ExpectCounted, ExpectFlagged, ExpectInvalid)
	oneOf("target", s.Target, "", TargetBrowserFP, TargetBotUA, TargetAutomation)
	if s.Limit < 0 {
		errs = append(errs, errors.New("limit: must be 0 (all) or positive"))
	}
	return errs
}

// readCorpus reads one User-Agent a line (.txt) or a tab-separated table
// with a header row naming its columns (.tsv: ua, language, screen,
// viewport, device; sizes as WxH). Lines are never trimmed: a User-Agent's
// spaces are part of it.
func readCorpus(path string) ([]Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Profile
	var cols map[string]int
	tsv := strings.HasSuffix(path, ".tsv")
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if !tsv {
			if text != "" {
				out = append(out, Profile{UA: text})
			}
			continue
		}
		fields := strings.Split(text, "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, c := range fields {
				cols[c] = i
			}
			if _, ok := cols["ua"]; !ok {
				return nil, fmt.Errorf("%s: header row has no ua column", path)
			}
			continue
		}
		get := func(name string) string {
			if i, ok := cols[name]; ok && i < len(fields) {
				return fields[i]
			}
			return ""
		}
		p := Profile{UA: get("ua"), Language: get("language"), Device: get("device")}
		var err1, err2 error
		p.Screen, err1 = parseSize(get("screen"))
		p.Viewport, err2 = parseSize(get("viewport"))
		if err := errors.Join(err1, err2); err != nil || p.UA == "" {
			return nil, fmt.Errorf("%s:%d: bad row (%v)", path, line, err)
		}
		out = append(out, p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: empty corpus", path)
	}
	return out, nil
}

// parseSize parses "WxH"; "" is unknown (0x0).
func parseSize(s string) ([2]int, error) {
	if s == "" {
		return [2]int{}, nil
	}
	w, h, ok := strings.Cut(s, "x")
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil || wi < 0 || hi < 0 {
		return [2]int{}, fmt.Errorf("size %q: want WxH", s)
	}
	return [2]int{wi, hi}, nil
}

// samples returns the scenario's profiles: the corpus, filtered by Only,
// then Limit of them spread evenly (deterministic, no randomness).
func (d *Data) samples(s Scenario) []Profile {
	var ps []Profile
	for _, p := range d.Corpora[s.Corpus] {
		if s.Only == "chromium" && parseBrowser(p.UA).chromium < 89 {
			continue
		}
		ps = append(ps, p)
	}
	if s.Limit == 0 || s.Limit >= len(ps) {
		return ps
	}
	out := make([]Profile, s.Limit)
	for i := range out {
		out[i] = ps[i*len(ps)/s.Limit]
	}
	return out
}

// Thin keeps about one sample in `every` of each scenario (at least one),
// for a quick run: the race detector makes the collector's User-Agent
// parsing some 25 times slower.
func (d *Data) Thin(every int) {
	for i := range d.Scenarios {
		d.Scenarios[i].Limit = max(1, len(d.samples(d.Scenarios[i]))/every)
	}
}
