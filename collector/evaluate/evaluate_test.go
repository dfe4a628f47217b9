package evaluate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTargetsOnCommittedData replays testdata/abuse through the real
// collector and fails when a target of docs/abuse.md is missed. Under the
// race detector (25 times slower here) it replays one sample in 40 of each
// scenario and checks the harness, not the targets: the targets are rates
// over all of the data, which `make test` replays without the race detector
// (`make eval`).
func TestTargetsOnCommittedData(t *testing.T) {
	d, err := LoadData(filepath.Join("..", "..", "testdata", "abuse"))
	if err != nil {
		t.Fatal(err)
	}
	if raceEnabled {
		d.Thin(40)
	}
	r, err := Run(context.Background(), d, nil)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text, 5); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + text.String())
	if dir := os.Getenv("VERITY_TEST_ARTIFACTS"); dir != "" && !raceEnabled {
		_ = os.WriteFile(filepath.Join(dir, "abuse-eval.txt"), text.Bytes(), 0o644)
	}
	// Every sample was replayed and came back with an outcome.
	want := 0
	for _, s := range d.Scenarios {
		want += len(d.samples(s))
	}
	if r.Samples != want {
		t.Errorf("%d samples replayed, want %d", r.Samples, want)
	}
	for _, s := range r.Scenarios {
		if s.N == 0 || s.OK+s.Suspect+s.Invalid+s.Refused != s.N {
			t.Errorf("%s: %d samples, %d ok + %d suspect + %d invalid + %d refused", s.Name, s.N, s.OK, s.Suspect, s.Invalid, s.Refused)
		}
		// No Origin is refused by the collector before any scoring.
		if strings.HasSuffix(s.Name, "/no-origin") && s.Reasons["refused:origin_not_allowed"] != s.N {
			t.Errorf("%s: refusals %v, want all origin_not_allowed", s.Name, s.Reasons)
		}
	}
	for _, tg := range r.Targets {
		if !raceEnabled && !tg.Info && !tg.Pass {
			t.Errorf("target missed: %s: %s of %d (threshold %s)", tg.Description, pct(tg.Rate), tg.N, pct(tg.Threshold))
		}
	}
}
