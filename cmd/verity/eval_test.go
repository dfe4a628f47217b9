package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verityhq/verity/collector/evaluate"
)

// evalData writes a small data folder: two people, two bots (or whatever
// bots says; sent with a script's bare headers) and one webdriver-driven
// browser.
func evalData(t *testing.T, bots string) string {
	return evalDataHeaders(t, bots, "bare")
}

// evalDataHeaders is evalData with the bots' headers chosen.
func evalDataHeaders(t *testing.T, bots, botHeaders string) string {
	dir := t.TempDir()
	files := map[string]string{
		"scenarios.yaml": `scenarios:
  - {name: people, label: human, set: held_out, corpus: people.txt, network: residential, headers: browser, signals: browser, expect: counted, target: browser_fp}
  - {name: bots, label: declared_bot, set: held_out, corpus: bots.txt, network: residential, headers: ` + botHeaders + `, signals: none, expect: invalid, target: bot_ua}
  - {name: robots, label: automation, set: held_out, corpus: people.txt, limit: 1, network: residential, headers: browser, signals: webdriver, expect: invalid, target: automation}
`,
		"people.txt": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\n" +
			"Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0\n",
		"bots.txt": bots,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAbuseEval(t *testing.T) {
	c := &cli{t: t, env: map[string]string{}}
	dir := evalData(t, "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)\ncurl/8.5.0\n")
	out := c.mustRunOut("abuse", "eval", "--data", dir)
	for _, want := range []string{
		"5 page loads replayed",
		"PASS  real-browser false positives (held out) ≤ 0.10%: 0.00% (0 of 2)",
		"PASS  bot User-Agent recall (held out) ≥ 95.00%: 100.00% (2 of 2)",
		"PASS  automation profiles invalid ≥ 99.00%: 100.00% (1 of 1)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	out = c.mustRunOut("abuse", "eval", "--data", dir, "--json")
	var r evaluate.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if r.Samples != 5 || len(r.Scenarios) != 3 || r.Scenarios[1].Invalid != 2 || r.Failed() {
		t.Errorf("--json report: %+v", r)
	}

	// A "bot" no list knows, with a browser's headers: the target is
	// missed, exit code 1.
	missed := evalDataHeaders(t, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\n", "browser")
	stdout, _, err := c.run("", "abuse", "eval", "--data", missed, "--misses", "-1")
	if !errors.Is(err, errTargetMissed) || isUsage(err) {
		t.Errorf("missed target: err = %v, want errTargetMissed (exit 1)", err)
	}
	if !strings.Contains(stdout, "FAIL  bot User-Agent recall (held out) ≥ 95.00%: 0.00% (0 of 1)") {
		t.Errorf("missed target not reported:\n%s", stdout)
	}

	for _, args := range [][]string{{"abuse"}, {"abuse", "eval", "extra"}, {"abuse", "eval", "--misses", "many"}} {
		if _, _, err := c.run("", args...); !isUsage(err) {
			t.Errorf("verity %s: err = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	if _, _, err := c.run("", "abuse", "eval", "--data", filepath.Join(dir, "nowhere")); err == nil || isUsage(err) || !strings.Contains(err.Error(), "scenarios.yaml") {
		t.Errorf("missing data folder: err = %v", err)
	}
	if _, _, err := c.run("", "abuse", "eval", "--data", dir, "--config", filepath.Join(dir, "none.yaml")); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("missing config file: err = %v", err)
	}
}

func (c *cli) mustRunOut(args ...string) string {
	c.t.Helper()
	out, _ := c.mustRun("", args...)
	return out
}
