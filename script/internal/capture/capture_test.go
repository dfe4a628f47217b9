package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCaptureMatchesGolden captures the golden payloads afresh from
// Chromium and compares each with the committed file by shape: the same
// fields, event types and names, array lengths and value types (tokens,
// times and other values differ on every run). When the snippet changes
// what it sends, this fails until the golden files are captured again, so
// they cannot go stale. Like the collector's browser test, it fails, never
// skips, without Chromium.
func TestCaptureMatchesGolden(t *testing.T) {
	chromium, err := findChromium()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	files, err := capture(ctx, chromium)
	if err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join("..", "..", "testdata", "golden")
	committed, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names, captured []string
	for _, path := range committed {
		names = append(names, filepath.Base(path))
	}
	for _, f := range files {
		captured = append(captured, f.name)
	}
	slices.Sort(captured)
	if !slices.Equal(names, captured) {
		t.Errorf("the capture makes %v, the golden folder holds %v", captured, names)
	}
	for _, f := range files {
		old, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			t.Error(err)
			continue
		}
		if got, want := shape(t, f.body), shape(t, old); got != want {
			t.Errorf("%s: the snippet now sends\n\t%s\nbut the golden file holds\n\t%s\nrecapture with `go run ./script/internal/capture` and update docs/protocol.md", f.name, got, want)
		}
	}
}

// shape renders a JSON document with every value replaced by its type,
// except the values of "type" and "name" (event types, vital and custom
// event names), which the page actions decide.
func shape(t *testing.T, data []byte) string {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	var b strings.Builder
	writeShape(&b, "", v)
	return b.String()
}

func writeShape(b *strings.Builder, key string, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(k + ":")
			writeShape(b, k, v[k])
		}
		b.WriteString("}")
	case []any:
		b.WriteString("[")
		for i, e := range v {
			if i > 0 {
				b.WriteString(",")
			}
			writeShape(b, "", e)
		}
		b.WriteString("]")
	case string:
		if key == "type" || key == "name" {
			b.WriteString(`"` + v + `"`)
		} else {
			b.WriteString("string")
		}
	case json.Number:
		b.WriteString("number")
	case bool:
		b.WriteString("bool")
	default:
		b.WriteString("null")
	}
}
