package script

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"github.com/verityhq/verity/script/internal/minify"
)

// sizeBudget is the snippet's budget, gzipped at best compression
// (docs/architecture.md: 3 KB with everything).
const sizeBudget = 3072

func TestDistUpToDate(t *testing.T) {
	src, err := os.ReadFile("src/verity.js")
	if err != nil {
		t.Fatal(err)
	}
	want, err := minify.Minify(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("dist/v1.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("dist/v1.min.js is stale (%d bytes, a fresh build has %d): run `go generate ./script/` and commit dist/v1.min.js", len(got), len(want))
	}
	if v1 != string(got) {
		t.Fatal("the embedded snippet differs from dist/v1.min.js: rebuild")
	}
}

func TestSizeBudget(t *testing.T) {
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write([]byte(v1)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var br bytes.Buffer
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	if _, err := bw.Write([]byte(v1)); err != nil {
		t.Fatal(err)
	}
	if err := bw.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("v1.min.js: %d bytes; gzip -9: %d bytes (budget %d, %d to spare); brotli 11: %d bytes",
		len(v1), gz.Len(), sizeBudget, sizeBudget-gz.Len(), br.Len())
	if gz.Len() > sizeBudget {
		t.Errorf("the snippet is %d bytes gzipped, over its budget of %d", gz.Len(), sizeBudget)
	}
}

// TestNoForbiddenAPIs reads the minified snippet (comments gone) for what it
// must never use: code from strings, cookies, storage.
func TestNoForbiddenAPIs(t *testing.T) {
	for _, bad := range []string{"eval(", "Function(", "cookie", "Storage", "indexedDB", "openDatabase", "caches.", "document.write", "innerHTML", "importScripts"} {
		if strings.Contains(v1, bad) {
			t.Errorf("the minified snippet contains %q", bad)
		}
	}
	if !strings.HasPrefix(v1, `(function(){"use strict";`) {
		t.Errorf("the snippet is not one strict-mode IIFE: starts %.40q", v1)
	}
	if !strings.HasSuffix(v1, "})();\n") {
		t.Errorf("the snippet does not end as an IIFE: ends %q", v1[max(0, len(v1)-20):])
	}
}

// TestLimitsMatchSource keeps the JS limits and limits.go equal: every
// MAX_* const of the snippet has its Go constant and the same value.
func TestLimitsMatchSource(t *testing.T) {
	src, err := os.ReadFile("src/verity.js")
	if err != nil {
		t.Fatal(err)
	}
	goLimits := map[string]int{
		"MAX_EVENTS":       MaxEventsPerToken,
		"MAX_BATCH_EVENTS": MaxEventsPerBatch,
		"MAX_BATCH_CHARS":  MaxBatchEventChars,
		"MAX_URL":          MaxURLLen,
		"MAX_TITLE":        MaxTitleLen,
		"MAX_SHORT":        MaxShortLen,
		"MAX_NAME":         MaxNameLen,
		"MAX_PROPS":        MaxProps,
		"MAX_KEY":          MaxPropKeyLen,
		"MAX_VALUE":        MaxPropValueLen,
		"MAX_GLOBALS":      MaxGlobals,
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*const (MAX_[A-Z_]+) = (\d+);`).FindAllStringSubmatch(string(src), -1) {
		name := m[1]
		js, _ := strconv.Atoi(m[2])
		seen[name] = true
		goValue, ok := goLimits[name]
		switch {
		case !ok:
			t.Errorf("src/verity.js has %s = %d, which limits.go lacks", name, js)
		case goValue != js:
			t.Errorf("%s: src/verity.js says %d, limits.go says %d", name, js, goValue)
		}
	}
	for name := range goLimits {
		if !seen[name] {
			t.Errorf("src/verity.js no longer declares %s", name)
		}
	}
	if MaxSeq != MaxEventsPerToken {
		t.Error("MaxSeq must equal MaxEventsPerToken: every batch holds at least one event")
	}
}

func TestIntegrityAndNames(t *testing.T) {
	sri := V1SRI()
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sri, "sha384-"))
	if err != nil || !strings.HasPrefix(sri, "sha384-") {
		t.Fatalf("V1SRI() = %q: want sha384-<base64>", sri)
	}
	if sum := sha512.Sum384(V1()); !bytes.Equal(raw, sum[:]) {
		t.Error("V1SRI does not match the SHA-384 of V1")
	}
	if etag := V1ETag(); !regexp.MustCompile(`^"v1-[0-9a-f]{16}"$`).MatchString(etag) {
		t.Errorf("V1ETag() = %s", etag)
	}
	if name := VersionedName(); !regexp.MustCompile(`^v1\.[0-9a-f]{8}\.js$`).MatchString(name) {
		t.Errorf("VersionedName() = %s", name)
	}
	b := V1()
	b[0] = 'X'
	if V1()[0] == 'X' {
		t.Error("V1 hands out the embedded bytes; it must return a copy")
	}
}

func TestExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cdn", "s")
	for range 2 { // the second run replaces the files
		if err := Export(dir); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"sri.json", "v1.js", VersionedName()}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("Export wrote %v, want %v (and no temporary files)", names, want)
	}
	for _, name := range []string{"v1.js", VersionedName()} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != v1 {
			t.Errorf("%s differs from V1", name)
		}
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", name, info.Mode().Perm())
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "sri.json"))
	if err != nil {
		t.Fatal(err)
	}
	var index map[string]string
	if err := json.Unmarshal(data, &index); err != nil {
		t.Fatal(err)
	}
	if len(index) != 2 || index["v1.js"] != V1SRI() || index[VersionedName()] != V1SRI() {
		t.Errorf("sri.json = %s", data)
	}
}

func TestAutomationGlobals(t *testing.T) {
	re := regexp.MustCompile(AutomationGlobals) // also valid RE2, so the collector can check it
	for _, name := range []string{
		"__nightmare", "_phantom", "__phantomas", "callPhantom", "domAutomation", "domAutomationController",
		"cdc_adoQpoasnfa76pfcZLmcfl_Array", "$cdc_asdjflasutopfhvcZLmcfl_", "$wdc_", "__webdriver_evaluate",
		"__selenium_unwrapped", "__fxdriver_unwrapped", "__driver_evaluate", "__webdriver_script_fn",
		"_Selenium_IDE_Recorder", "__playwright__binding__", "__pwInitScripts",
	} {
		if !re.MatchString(name) {
			t.Errorf("AutomationGlobals misses %q", name)
		}
	}
	for _, name := range []string{"jQuery", "__REACT_DEVTOOLS_GLOBAL_HOOK__", "webpackChunkapp", "_gaq", "dataLayer", "__NEXT_DATA__", "verity", "driver", "phantom"} {
		if re.MatchString(name) {
			t.Errorf("AutomationGlobals matches the ordinary global %q", name)
		}
	}
}

func TestDownloadExtensions(t *testing.T) {
	// The snippet matches it case-insensitively; (?i) does the same here.
	re := regexp.MustCompile(`(?i)` + DownloadExtensions)
	for _, path := range []string{"/files/report.pdf", "/a.ZIP", "/x.docx", "/x.doc", "/sheet.xlsx", "/deck.ppt", "/data.csv",
		"/notes.txt", "/app.dmg", "/setup.exe", "/setup.msi", "/app.apk", "/song.mp3", "/clip.MP4"} {
		if !re.MatchString(path) {
			t.Errorf("DownloadExtensions misses %q", path)
		}
	}
	for _, path := range []string{"/", "/pricing", "/pdf", "/report.pdf/view", "/docs.html", "/a.mp5", "/archive.zip.html"} {
		if re.MatchString(path) {
			t.Errorf("DownloadExtensions matches the page %q", path)
		}
	}
}

func TestDefaultChecks(t *testing.T) {
	c := DefaultChecks()
	for _, key := range []string{"title", "description", "h1", "canonical", "lang", "viewport", "img_no_alt", "noindex"} {
		if c[key] == "" {
			t.Errorf("DefaultChecks lacks %q", key)
		}
	}
	if len(c) != 8 {
		t.Errorf("DefaultChecks has %d checks, want 8", len(c))
	}
	c["title"] = "changed"
	if DefaultChecks()["title"] != "title" {
		t.Error("DefaultChecks returns a shared map")
	}
}
