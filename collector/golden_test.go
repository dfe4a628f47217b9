package collector

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The snippet's golden payloads (what it really sends, pinned in
// script/testdata/golden) must decode and validate here: the collector and
// the snippet speak one wire format.
func TestGoldenPayloadsDecode(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "script", "testdata", "golden", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var batches, challenges int
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		switch {
		case strings.HasPrefix(name, "batch"):
			batches++
			var req eventRequest
			if err := decodeStrict(body, &req); err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if err := req.validate(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case strings.HasPrefix(name, "challenge"):
			challenges++
			var req challengeRequest
			if err := decodeStrict(body, &req); err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if err := req.validate(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if batches < 3 || challenges < 1 {
		t.Fatalf("found %d batch and %d challenge payloads in script/testdata/golden; want the snippet's goldens", batches, challenges)
	}
}
