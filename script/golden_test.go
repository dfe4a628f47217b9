package script

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The golden payloads in testdata/golden are request bodies the snippet
// really sent, captured from headless Chromium against a stub collector by
// `go run ./script/internal/capture` (testdata/golden/README.md). This test
// pins their shape: the exact field set of the envelope, of each event type
// and of the signals, and the limits. The collector's decoder has its own
// tests on the same files, and internal/capture's test captures afresh and
// fails when the snippet no longer sends what they hold; when the
// snippet's output changes, recapture them and update docs/protocol.md
// together.

// fields lists, per event type, every field the snippet sends.
var fields = map[string][]string{
	"pageview":   {"type", "url", "referrer", "title", "screen_w", "lang", "tz"},
	"engagement": {"type", "url", "ms", "scroll"},
	"custom":     {"type", "url", "name", "props"},
	"outbound":   {"type", "url", "href"},
	"download":   {"type", "url", "href"},
	"vital":      {"type", "url", "name", "value"},
	"dom_check":  {"type", "url", "checks"},
}

// signalFields are the fields of the signals. All of them are always sent
// but perm, which the snippet leaves out (undefined drops it from the JSON)
// while its Permissions API query has not answered: for good in browsers
// without navigator.permissions or without Notification (iOS Safari). The
// collector accepts signals without it (docs/protocol.md). In Chromium the query answers within milliseconds (1 to 13 ms
// in headless Chromium 156), while the first batch waits for the token and,
// unless the page is left first, FLUSH_MS (1 s); so the Chromium-captured
// golden has it: this test requires it, and the capture tool refuses a
// capture without it.
var signalFields = []string{"webdriver", "globals", "langs", "sw_gl", "win", "perm"}

// permValue is what perm holds: the Permissions API's state for
// notifications, then Notification.permission.
var permValue = regexp.MustCompile(`^(granted|denied|prompt)(granted|denied|default)$`)

// vitals are the Web Vitals the snippet sends.
var vitals = []string{"TTFB", "FCP", "LCP", "CLS", "INP"}

type goldenEvent struct {
	Type     string            `json:"type"`
	URL      string            `json:"url"`
	Referrer string            `json:"referrer"`
	Title    string            `json:"title"`
	ScreenW  int               `json:"screen_w"`
	Lang     string            `json:"lang"`
	TZ       string            `json:"tz"`
	MS       int64             `json:"ms"`
	Scroll   int               `json:"scroll"`
	Name     string            `json:"name"`
	Props    map[string]string `json:"props"`
	Href     string            `json:"href"`
	Value    float64           `json:"value"`
	Checks   map[string][2]int `json:"checks"`
}

type goldenBatch struct {
	Token   string         `json:"token"`
	N       uint32         `json:"n"`
	SolveMS int            `json:"solve_ms"`
	Seq     int            `json:"seq"`
	Events  []goldenEvent  `json:"events"`
	Signals *goldenSignals `json:"signals"`
}

type goldenSignals struct {
	Webdriver bool     `json:"webdriver"`
	Globals   []string `json:"globals"`
	Langs     int      `json:"langs"`
	SWGL      bool     `json:"sw_gl"`
	Win       [4]int   `json:"win"`
	Perm      string   `json:"perm"`
}

func strictDecode(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if dec.More() {
		t.Fatalf("%s: data after the JSON value", name)
	}
}

// keys returns the sorted field names of a JSON object.
func keys(t *testing.T, name string, data []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func maxRunes(t *testing.T, where, s string, limit int) {
	t.Helper()
	if n := utf8.RuneCountInString(s); n > limit {
		t.Errorf("%s: %d code points, over the limit of %d", where, n, limit)
	}
}

func TestGoldenChallenge(t *testing.T) {
	data, err := os.ReadFile("testdata/golden/challenge.json")
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		Site string `json:"site"`
		URL  string `json:"url"`
	}
	strictDecode(t, "challenge.json", data, &req)
	if got := keys(t, "challenge.json", data); !slices.Equal(got, []string{"site", "url"}) {
		t.Errorf("challenge.json has fields %v", got)
	}
	if !strings.HasPrefix(req.Site, "pk_") || !strings.HasPrefix(req.URL, "http") || strings.Contains(req.URL, "#") {
		t.Errorf("challenge.json = %+v", req)
	}
	maxRunes(t, "challenge url", req.URL, MaxURLLen)
}

func TestGoldenBatches(t *testing.T) {
	paths, err := filepath.Glob("testdata/golden/batch_*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 5 {
		t.Fatalf("found %d golden batches, want at least 5", len(paths))
	}
	typesSeen := map[string]bool{}
	vitalsSeen := map[string]bool{}
	signalsSeen := false
	for _, path := range paths {
		name := filepath.Base(path)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasSuffix(data, []byte("\n")) {
			t.Errorf("%s ends with a newline: golden files hold the body byte for byte", name)
		}
		var b goldenBatch
		strictDecode(t, name, data, &b)

		wantEnvelope := []string{"events", "n", "seq", "solve_ms", "token"}
		if b.Signals != nil {
			wantEnvelope = sortedCopy(append(wantEnvelope, "signals"))
			signalsSeen = true
			if b.Seq != 1 {
				t.Errorf("%s: signals in batch %d; the snippet sends them once, in the first batch", name, b.Seq)
			}
		}
		if got := keys(t, name, data); !slices.Equal(got, wantEnvelope) {
			t.Errorf("%s: envelope fields %v, want %v", name, got, wantEnvelope)
		}
		if b.Token == "" || b.Seq < 1 || b.Seq > MaxSeq || b.SolveMS < 0 {
			t.Errorf("%s: token %q, seq %d, solve_ms %d", name, b.Token, b.Seq, b.SolveMS)
		}
		if len(b.Events) == 0 || len(b.Events) > MaxEventsPerBatch {
			t.Errorf("%s: %d events", name, len(b.Events))
		}

		var raw struct {
			Events  []json.RawMessage `json:"events"`
			Signals json.RawMessage   `json:"signals"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatal(err)
		}
		chars := 0
		for i, e := range b.Events {
			where := name + ": event " + e.Type
			want, ok := fields[e.Type]
			if !ok {
				t.Errorf("%s: unknown type", where)
				continue
			}
			typesSeen[e.Type] = true
			if got := keys(t, where, raw.Events[i]); !slices.Equal(got, sortedCopy(want)) {
				t.Errorf("%s: fields %v, want %v", where, got, sortedCopy(want))
			}
			chars += utf8.RuneCount(raw.Events[i])
			maxRunes(t, where+" url", e.URL, MaxURLLen)
			maxRunes(t, where+" referrer", e.Referrer, MaxURLLen)
			maxRunes(t, where+" href", e.Href, MaxURLLen)
			maxRunes(t, where+" title", e.Title, MaxTitleLen)
			maxRunes(t, where+" lang", e.Lang, MaxShortLen)
			maxRunes(t, where+" name", e.Name, MaxNameLen)
			if len(e.Props) > MaxProps {
				t.Errorf("%s: %d props", where, len(e.Props))
			}
			for k, v := range e.Props {
				if k == "" {
					t.Errorf("%s: empty property name", where)
				}
				maxRunes(t, where+" prop name", k, MaxPropKeyLen)
				maxRunes(t, where+" prop value", v, MaxPropValueLen)
			}
			switch e.Type {
			case "vital":
				vitalsSeen[e.Name] = true
				if !slices.Contains(vitals, e.Name) || e.Value < 0 {
					t.Errorf("%s: vital %s = %v", where, e.Name, e.Value)
				}
			case "custom":
				if e.Name == "" {
					t.Errorf("%s: custom event without a name", where)
				}
			case "engagement":
				if e.MS <= 0 || e.Scroll < 0 || e.Scroll > 100 {
					t.Errorf("%s: ms %d, scroll %d", where, e.MS, e.Scroll)
				}
			case "dom_check":
				for k := range DefaultChecks() {
					if _, ok := e.Checks[k]; !ok {
						t.Errorf("%s: no result for check %q", where, k)
					}
				}
			}
		}
		if len(b.Events) > 1 && chars > MaxBatchEventChars {
			t.Errorf("%s: events hold %d characters, over %d", name, chars, MaxBatchEventChars)
		}
		if b.Signals != nil {
			if got := keys(t, name+" signals", raw.Signals); !slices.Equal(got, sortedCopy(signalFields)) {
				t.Errorf("%s: signal fields %v, want %v", name, got, sortedCopy(signalFields))
			}
			if len(b.Signals.Globals) > MaxGlobals {
				t.Errorf("%s: %d globals", name, len(b.Signals.Globals))
			}
			if !permValue.MatchString(b.Signals.Perm) {
				t.Errorf("%s: perm %q is not a permission state followed by a Notification.permission", name, b.Signals.Perm)
			}
		}
	}
	for typ := range fields {
		if !typesSeen[typ] {
			t.Errorf("no golden batch holds a %s event", typ)
		}
	}
	for _, v := range vitals {
		if !vitalsSeen[v] {
			t.Errorf("no golden batch holds the vital %s", v)
		}
	}
	if !signalsSeen {
		t.Error("no golden batch holds the signals")
	}
}
