package evaluate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeData(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A bad data folder is reported with every problem at once, each naming
// its scenario and field.
func TestLoadDataReportsEveryProblem(t *testing.T) {
	dir := writeData(t, map[string]string{
		"scenarios.yaml": `scenarios:
  - name: a
    label: robot
    set: held_out
    corpus: uas.txt
    network: moon
    headers: browser
    signals: browser
    expect: counted
  - name: a
    label: human
    set: sometimes
    corpus: ../etc/passwd
    network: residential
    headers: fancy
    signals: browser
    expect: maybe
    target: everything
    limit: -1
  - name: b
    label: human
    set: held_out
    corpus: missing.txt
    network: residential
    headers: browser
    signals: browser
    expect: counted
  - name: c
    label: human
    set: held_out
    corpus: bad.tsv
    network: residential
    headers: browser
    signals: browser
    expect: counted
`,
		"uas.txt": "curl/8.5.0\n",
		"bad.tsv": "ua\tscreen\nMozilla/5.0\t12by7\n",
	})
	_, err := LoadData(dir)
	if err == nil {
		t.Fatal("bad data loaded")
	}
	if strings.Contains(err.Error(), "passwd: no such file") {
		t.Errorf("a corpus outside the folder was opened:\n%v", err)
	}
	for _, want := range []string{
		`scenario 1 (a): label "robot": want one of human,`,
		`scenario 1 (a): network "moon": want one of hosting, public_proxy, residential, residential_proxy, tor, vpn`,
		`scenario 2: name "a" used twice`,
		`scenario 2 (a): set "sometimes": want one of held_out, in_lists`,
		`scenario 2 (a): corpus "../etc/passwd": want a file name beside scenarios.yaml`,
		`scenario 2 (a): headers "fancy": want one of browser,`,
		`scenario 2 (a): expect "maybe": want one of counted, flagged, invalid`,
		`scenario 2 (a): target "everything": want one of "", browser_fp, bot_ua, automation`,
		`scenario 2 (a): limit: must be 0 (all) or positive`,
		"missing.txt: no such file",
		`bad.tsv:2: bad row (size "12by7": want WxH)`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := LoadData(t.TempDir()); err == nil || !strings.Contains(err.Error(), "scenarios.yaml") {
		t.Errorf("empty folder: %v", err)
	}
	unknown := writeData(t, map[string]string{"scenarios.yaml": "scenarios:\n  - name: a\n    colour: red\n"})
	if _, err := LoadData(unknown); err == nil || !strings.Contains(err.Error(), "field colour not found") {
		t.Errorf("unknown field: %v", err)
	}
}

// Corpora: text files one User-Agent a line (spaces kept), TSV with named
// columns; samples spread evenly and filter by browser family; Thin keeps
// one in n.
func TestCorporaAndSamples(t *testing.T) {
	dir := writeData(t, map[string]string{
		"scenarios.yaml": `scenarios:
  - {name: all, label: human, set: held_out, corpus: uas.txt, network: residential, headers: browser, signals: browser, expect: counted}
  - {name: chromium, label: human, set: held_out, corpus: uas.txt, only: chromium, network: residential, headers: browser, signals: browser, expect: counted}
  - {name: two, label: human, set: held_out, corpus: uas.txt, limit: 2, network: residential, headers: browser, signals: browser, expect: counted}
  - {name: tsv, label: human, set: held_out, corpus: profiles.tsv, network: residential, headers: browser, signals: browser, expect: counted}
`,
		"uas.txt":      chromeWin + "\n\n" + safariMac + "\n" + chromeOld + "\n " + curlUA + " \n" + edgeWin + "\n",
		"profiles.tsv": "device\tua\tlanguage\tscreen\tviewport\tplatform\n" + "mobile\t" + chromeAndr + "\tfr-FR\t412x915\t412x839\tLinux armv8l\n",
	})
	d, err := LoadData(dir)
	if err != nil {
		t.Fatal(err)
	}
	uas := func(ps []Profile) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.UA)
		}
		return out
	}
	check := func(name string, got, want []string) {
		t.Helper()
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	check("all", uas(d.samples(d.Scenarios[0])), []string{chromeWin, safariMac, chromeOld, " " + curlUA + " ", edgeWin})
	check("chromium 89+", uas(d.samples(d.Scenarios[1])), []string{chromeWin, edgeWin})
	check("limit 2 of 5", uas(d.samples(d.Scenarios[2])), []string{chromeWin, chromeOld})
	if got := d.samples(d.Scenarios[3]); len(got) != 1 || got[0] != (Profile{UA: chromeAndr, Language: "fr-FR", Screen: [2]int{412, 915}, Viewport: [2]int{412, 839}, Device: "mobile"}) {
		t.Errorf("tsv: %+v", got)
	}
	d.Thin(2)
	for i, want := range []int{2, 1, 1, 1} {
		if got := len(d.samples(d.Scenarios[i])); got != want {
			t.Errorf("thinned %s: %d samples, want %d", d.Scenarios[i].Name, got, want)
		}
	}
}
