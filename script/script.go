// Package script owns the browser snippet: its source (src/verity.js), the
// minified build the verity binary embeds (dist/v1.min.js, made by
// `go generate ./script/` and committed, so building needs neither Node.js
// nor a generate step), the wire-format limits the collector enforces
// (limits.go) and the lists the collector hands the snippet in each
// challenge answer (DOM checks, automation globals). docs/protocol.md
// describes the wire format; testdata/golden holds real request bodies.
//
// It imports only the standard library, so any package may import it: the
// collector serves V1 at /s/v1.js, and whatever prints the snippet tag can
// add V1SRI. esbuild is used only by internal/gen and the tests, so the
// verity binary does not link it.
package script

//go:generate go run ./internal/gen

import (
	"crypto/sha256"
	"crypto/sha512"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// v1 is the minified snippet. A string, so nothing can change it.
//
//go:embed dist/v1.min.js
var v1 string

// V1 returns the minified snippet that /s/v1.js serves (a fresh copy; cache
// it rather than calling V1 per request).
func V1() []byte { return []byte(v1) }

// V1SRI returns V1's Subresource Integrity value: "sha384-" followed by the
// standard base64 of its SHA-384, for <script integrity="...">.
func V1SRI() string { return sri(v1) }

// V1ETag returns a strong ETag for V1 (quotes included): the first 16 hex
// digits of its SHA-256, so it changes whenever the content does.
func V1ETag() string {
	sum := sha256.Sum256([]byte(v1))
	return `"v1-` + hex.EncodeToString(sum[:8]) + `"`
}

func sri(s string) string {
	sum := sha512.Sum384([]byte(s))
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// VersionedName returns the content-addressed file name of V1,
// "v1.<first 8 hex digits of its SHA-256>.js", which a CDN can cache
// forever.
func VersionedName() string {
	sum := sha256.Sum256([]byte(v1))
	return "v1." + hex.EncodeToString(sum[:4]) + ".js"
}

// Export writes the snippet for a CDN or a static host into dir (created if
// missing): v1.js (the moving name, to serve with a short cache), the
// versioned copy named by VersionedName (immutable), and sri.json, a JSON
// object mapping each file name to its integrity value. Existing files are
// replaced.
func Export(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("script: export: %w", err)
	}
	names := []string{"v1.js", VersionedName()}
	index := map[string]string{}
	for _, name := range names {
		if err := writeFile(filepath.Join(dir, name), []byte(v1)); err != nil {
			return err
		}
		index[name] = V1SRI()
	}
	data, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return fmt.Errorf("script: export: %w", err)
	}
	return writeFile(filepath.Join(dir, "sri.json"), append(data, '\n'))
}

// writeFile writes through a temporary file and a rename, so a CDN sync
// that runs meanwhile never picks up half a file.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return fmt.Errorf("script: export: %w", err)
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("script: export %s: %w", filepath.Base(path), err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("script: export %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("script: export %s: %w", filepath.Base(path), err)
	}
	return nil
}
