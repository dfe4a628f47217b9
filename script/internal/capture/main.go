// Command capture captures the snippet's golden payloads
// (script/testdata/golden): it serves test pages and a stub collector to
// Debian's headless Chromium, performs the page actions listed in that
// folder's README.md and writes each request body byte for byte. Run it
// from the repository root whenever the snippet's output changes:
//
//	go run ./script/internal/capture
//
// -out names another folder. The tokens, proof-of-work answers and times
// differ on every run; the pages, actions and so the shapes do not
// (TestCaptureMatchesGolden checks the committed files against a fresh
// capture).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"time"
)

func main() {
	out := flag.String("out", filepath.Join("script", "testdata", "golden"), "folder to write the golden files into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "capture:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	chromium, err := findChromium()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	files, err := capture(ctx, chromium)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(out, f.name), f.body, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d bytes\n", filepath.Join(out, f.name), len(f.body))
	}
	return nil
}
