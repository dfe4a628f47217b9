package spool_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/verityhq/verity/storage/spool"
)

const headerSize = 13 // pinned by TestFileFormat

func fileName(id uint64) string { return fmt.Sprintf("%020d.batch", id) }

func size(payloads ...string) int64 {
	var n int64
	for _, p := range payloads {
		n += int64(headerSize + len(p))
	}
	return n
}

// open opens a spool and closes it at the end of the test.
func open(t testing.TB, cfg spool.Config) *spool.Spool {
	t.Helper()
	s, err := spool.Open(cfg)
	if err != nil {
		t.Fatalf("Open(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { s.Close() }) // may be closed already
	return s
}

func mustAppend(t testing.TB, s *spool.Spool, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if err := s.Append([]byte(p)); err != nil {
			t.Fatalf("Append(%q): %v", p, err)
		}
	}
}

func mustClose(t *testing.T, s *spool.Spool) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// rec is a Record with a string payload, for readable comparisons.
type rec struct {
	ID      uint64
	Payload string
}

func mustNext(t *testing.T, s *spool.Spool) rec {
	t.Helper()
	r, err := s.Next()
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return rec{r.ID, string(r.Payload)}
}

// drain replays the whole spool: Next, then Remove, until io.EOF.
func drain(t *testing.T, s *spool.Spool) []rec {
	t.Helper()
	var got []rec
	for {
		r, err := s.Next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("Next after %v: %v", got, err)
		}
		got = append(got, rec{r.ID, string(r.Payload)})
		if err := s.Remove(r.ID); err != nil {
			t.Fatalf("Remove(%d): %v", r.ID, err)
		}
	}
}

// checkState asserts Len and Bytes, and that exactly the record files of
// ids are in dir.
func checkState(t *testing.T, s *spool.Spool, dir string, ids []uint64, bytes int64) {
	t.Helper()
	if got := s.Len(); got != len(ids) {
		t.Errorf("Len() = %d, want %d", got, len(ids))
	}
	if got := s.Bytes(); got != bytes {
		t.Errorf("Bytes() = %d, want %d", got, bytes)
	}
	var want []string
	for _, id := range ids {
		want = append(want, fileName(id))
	}
	if got := recordFiles(t, dir); !slices.Equal(got, want) {
		t.Errorf("record files = %q, want %q", got, want)
	}
}

// recordFiles lists the regular files in dir (sorted), except highwater.
func recordFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && e.Name() != "highwater" {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestAppendNextRemoveOrder(t *testing.T) {
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})
	checkState(t, s, dir, nil, 0)
	if r, err := s.Next(); err != io.EOF || r.ID != 0 || r.Payload != nil {
		t.Fatalf("Next() on empty spool = %+v, %v; want zero Record, io.EOF", r, err)
	}

	mustAppend(t, s, "a", "bb", "ccc")
	checkState(t, s, dir, []uint64{1, 2, 3}, size("a", "bb", "ccc"))

	// Next does not consume.
	for range 2 {
		if got, want := mustNext(t, s), (rec{1, "a"}); got != want {
			t.Fatalf("Next() = %+v, want %+v", got, want)
		}
	}
	checkState(t, s, dir, []uint64{1, 2, 3}, size("a", "bb", "ccc"))

	if err := s.Remove(1); err != nil {
		t.Fatal(err)
	}
	checkState(t, s, dir, []uint64{2, 3}, size("bb", "ccc"))

	// Appending while replaying: the new record goes to the back.
	mustAppend(t, s, "dddd")
	checkState(t, s, dir, []uint64{2, 3, 4}, size("bb", "ccc", "dddd"))

	want := []rec{{2, "bb"}, {3, "ccc"}, {4, "dddd"}}
	if got := drain(t, s); !slices.Equal(got, want) {
		t.Errorf("drain = %+v, want %+v", got, want)
	}
	checkState(t, s, dir, nil, 0)
}

func TestReopenContinuesSequence(t *testing.T) {
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})
	mustAppend(t, s, "a", "b", "c")
	if err := s.Remove(1); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)

	// Reopen with records left: they come back in order, the sequence
	// continues after the highest file.
	s = open(t, spool.Config{Dir: dir})
	checkState(t, s, dir, []uint64{2, 3}, size("b", "c"))
	mustAppend(t, s, "d")
	want := []rec{{2, "b"}, {3, "c"}, {4, "d"}}
	if got := drain(t, s); !slices.Equal(got, want) {
		t.Errorf("drain after first reopen = %+v, want %+v", got, want)
	}
	mustClose(t, s)

	// Reopen with the spool drained: no file is left, yet no ID is reused.
	s = open(t, spool.Config{Dir: dir})
	checkState(t, s, dir, nil, 0)
	mustAppend(t, s, "e", "f", "g")
	// Remove the newest record first, out of replay order.
	if err := s.Remove(7); err != nil {
		t.Fatal(err)
	}
	mustClose(t, s)

	s = open(t, spool.Config{Dir: dir})
	checkState(t, s, dir, []uint64{5, 6}, size("e", "f"))
	mustAppend(t, s, "h")
	want = []rec{{5, "e"}, {6, "f"}, {8, "h"}}
	if got := drain(t, s); !slices.Equal(got, want) {
		t.Errorf("drain after second reopen = %+v, want %+v", got, want)
	}
}

func TestFull(t *testing.T) {
	dir := t.TempDir()
	p := strings.Repeat("x", 100)
	s := open(t, spool.Config{Dir: dir, MaxBytes: size(p, p, p)})

	mustAppend(t, s, p, p, p) // exactly at the cap
	err := s.Append([]byte(p))
	if !errors.Is(err, spool.ErrFull) {
		t.Fatalf("Append over the cap = %v, want ErrFull", err)
	}
	checkState(t, s, dir, []uint64{1, 2, 3}, size(p, p, p))

	// Not even a small record fits.
	if err := s.Append(nil); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("Append(nil) at the cap = %v, want ErrFull", err)
	}

	if err := s.Remove(1); err != nil {
		t.Fatal(err)
	}
	checkState(t, s, dir, []uint64{2, 3}, size(p, p))
	mustAppend(t, s, p) // refused appends did not consume an ID
	checkState(t, s, dir, []uint64{2, 3, 4}, size(p, p, p))
	if err := s.Append([]byte("y")); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("Append after refilling = %v, want ErrFull", err)
	}
	mustClose(t, s)

	// A lower cap at restart: the records stay, Append is refused until
	// they are replayed.
	s = open(t, spool.Config{Dir: dir, MaxBytes: size(p)})
	checkState(t, s, dir, []uint64{2, 3, 4}, size(p, p, p))
	if err := s.Append([]byte("y")); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("Append over a lowered cap = %v, want ErrFull", err)
	}
	for _, id := range []uint64{2, 3, 4} {
		if err := s.Remove(id); err != nil {
			t.Fatal(err)
		}
	}
	mustAppend(t, s, p)
	checkState(t, s, dir, []uint64{5}, size(p))
}

func TestAppendTooLarge(t *testing.T) {
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})
	err := s.Append(make([]byte, spool.MaxPayload+1))
	if !errors.Is(err, spool.ErrTooLarge) || errors.Is(err, spool.ErrFull) {
		t.Fatalf("Append(MaxPayload+1 bytes) = %v, want ErrTooLarge", err)
	}
	checkState(t, s, dir, nil, 0)
	mustAppend(t, s, "ok")
	checkState(t, s, dir, []uint64{1}, size("ok"))
}

// report is one call of Config.OnCorrupt.
type report struct {
	path string
	err  error
}

// reports collects OnCorrupt calls.
type reports struct {
	mu    sync.Mutex
	calls []report
}

func (r *reports) add(path string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, report{path, err})
}

func (r *reports) get() []report {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func TestCorruptFilesAreMovedAside(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func([]byte) []byte
		wantErr string
	}{
		{"payload byte flipped", func(b []byte) []byte { b[headerSize+1] ^= 0x01; return b }, "checksum mismatch"},
		{"checksum flipped", func(b []byte) []byte { b[9] ^= 0x80; return b }, "checksum mismatch"},
		{"payload truncated", func(b []byte) []byte { return b[:len(b)-1] }, "length mismatch"},
		{"header truncated", func(b []byte) []byte { return b[:headerSize-1] }, "shorter than the 13-byte header"},
		{"empty file", func(b []byte) []byte { return b[:0] }, "shorter than the 13-byte header"},
		{"extended", func(b []byte) []byte { return append(b, 0) }, "length mismatch"},
		{"length field changed", func(b []byte) []byte { b[5]--; return b }, "length mismatch"},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic"},
		{"unknown version", func(b []byte) []byte { b[4] = 2; return b }, "unknown format version 2"},
		{"length over maximum", func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[5:9], spool.MaxPayload+1)
			return b
		}, "exceeds the maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, spool.Config{Dir: dir})
			mustAppend(t, s, "first", "second", "third", "fourth")
			mustClose(t, s)

			// Corrupt the first (which would block the replay) and the
			// third record.
			mutated := map[uint64][]byte{}
			for _, id := range []uint64{1, 3} {
				p := filepath.Join(dir, fileName(id))
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				b = tt.mutate(b)
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
				mutated[id] = b
			}

			var rep reports
			s = open(t, spool.Config{Dir: dir, OnCorrupt: rep.add})
			checkState(t, s, dir, []uint64{1, 2, 3, 4},
				int64(len(mutated[1])+len(mutated[3]))+size("second", "fourth"))

			want := []rec{{2, "second"}, {4, "fourth"}}
			if got := drain(t, s); !slices.Equal(got, want) {
				t.Errorf("drain = %+v, want %+v", got, want)
			}
			checkState(t, s, dir, nil, 0)
			if got := s.Corrupt(); got != 2 {
				t.Errorf("Corrupt() = %d, want 2", got)
			}

			calls := rep.get()
			if len(calls) != 2 {
				t.Fatalf("OnCorrupt called %d times (%v), want 2", len(calls), calls)
			}
			for i, id := range []uint64{1, 3} {
				c := calls[i]
				wantPath := filepath.Join(dir, "corrupt", fileName(id))
				if c.path != wantPath {
					t.Errorf("OnCorrupt call %d: path = %q, want %q", i, c.path, wantPath)
				}
				if c.err == nil || !strings.Contains(c.err.Error(), tt.wantErr) || !strings.Contains(c.err.Error(), fileName(id)) {
					t.Errorf("OnCorrupt call %d: err = %v, want it to name %s and contain %q", i, c.err, fileName(id), tt.wantErr)
				}
				// The file is kept byte for byte, for an operator.
				if b, err := os.ReadFile(wantPath); err != nil || !bytes.Equal(b, mutated[id]) {
					t.Errorf("moved file %s = %q, %v; want %q", wantPath, b, err, mutated[id])
				}
			}
			if got := recordFiles(t, filepath.Join(dir, "corrupt")); !slices.Equal(got, []string{fileName(1), fileName(3)}) {
				t.Errorf("files in corrupt/ = %q", got)
			}
		})
	}
}

func TestCorruptWhileOpen(t *testing.T) {
	dir := t.TempDir()
	var rep reports
	s := open(t, spool.Config{Dir: dir, OnCorrupt: rep.add})
	mustAppend(t, s, "first", "second")

	// An earlier corrupt file with the same name is not overwritten.
	cdir := filepath.Join(dir, "corrupt")
	if err := os.Mkdir(cdir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cdir, fileName(1)), []byte("older"), 0o600); err != nil {
		t.Fatal(err)
	}

	p := filepath.Join(dir, fileName(1))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}

	if got, want := mustNext(t, s), (rec{2, "second"}); got != want {
		t.Fatalf("Next() = %+v, want %+v", got, want)
	}
	checkState(t, s, dir, []uint64{2}, size("second"))
	if got := s.Corrupt(); got != 1 {
		t.Errorf("Corrupt() = %d, want 1", got)
	}
	wantPath := filepath.Join(cdir, fileName(1)+".1")
	if calls := rep.get(); len(calls) != 1 || calls[0].path != wantPath || !strings.Contains(fmt.Sprint(calls[0].err), "checksum mismatch") {
		t.Errorf("OnCorrupt calls = %v, want one for %s with a checksum mismatch", calls, wantPath)
	}
	if got, err := os.ReadFile(wantPath); err != nil || !bytes.Equal(got, b) {
		t.Errorf("moved file = %q, %v; want %q", got, err, b)
	}
	if got, err := os.ReadFile(filepath.Join(cdir, fileName(1))); err != nil || string(got) != "older" {
		t.Errorf("earlier corrupt file = %q, %v; want it unchanged", got, err)
	}
}

func TestOversizedFileIsMovedAside(t *testing.T) {
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})
	mustAppend(t, s, "first", "second")
	mustClose(t, s)

	// Larger than any record: Next must not try to read it into memory.
	// Truncate makes a sparse file, so this costs no disk space.
	p := filepath.Join(dir, fileName(1))
	const huge = headerSize + spool.MaxPayload + 1
	if err := os.Truncate(p, huge); err != nil {
		t.Fatal(err)
	}

	var rep reports
	s = open(t, spool.Config{Dir: dir, OnCorrupt: rep.add})
	checkState(t, s, dir, []uint64{1, 2}, huge+size("second"))
	want := []rec{{2, "second"}}
	if got := drain(t, s); !slices.Equal(got, want) {
		t.Errorf("drain = %+v, want %+v", got, want)
	}
	checkState(t, s, dir, nil, 0)
	wantPath := filepath.Join(dir, "corrupt", fileName(1))
	if calls := rep.get(); len(calls) != 1 || calls[0].path != wantPath || !strings.Contains(fmt.Sprint(calls[0].err), "larger than any record") {
		t.Errorf("OnCorrupt calls = %v, want one for %s, larger than any record", calls, wantPath)
	}
	if fi, err := os.Stat(wantPath); err != nil || fi.Size() != huge {
		t.Errorf("moved file: %v, %v; want %d bytes", fi, err, huge)
	}
}

func TestMissingFileIsSkipped(t *testing.T) {
	dir := t.TempDir()
	var rep reports
	s := open(t, spool.Config{Dir: dir, OnCorrupt: rep.add})
	mustAppend(t, s, "first", "second")
	p := filepath.Join(dir, fileName(1))
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}

	want := []rec{{2, "second"}}
	if got := drain(t, s); !slices.Equal(got, want) {
		t.Errorf("drain = %+v, want %+v", got, want)
	}
	checkState(t, s, dir, nil, 0)
	if got := s.Corrupt(); got != 1 {
		t.Errorf("Corrupt() = %d, want 1", got)
	}
	if calls := rep.get(); len(calls) != 1 || calls[0].path != p || !errors.Is(calls[0].err, fs.ErrNotExist) {
		t.Errorf("OnCorrupt calls = %v, want one for %s with fs.ErrNotExist", calls, p)
	}
}

func TestOpenRemovesTempFiles(t *testing.T) {
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})
	mustAppend(t, s, "kept")
	mustClose(t, s)

	// What a crash in Append or in saving the high-water mark leaves.
	for _, name := range []string{fileName(9) + ".tmp", "highwater.tmp"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Not the spool's: left alone.
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}

	s = open(t, spool.Config{Dir: dir})
	if got, want := recordFiles(t, dir), []string{fileName(1), "notes.txt"}; !slices.Equal(got, want) {
		t.Errorf("files after Open = %q, want %q", got, want)
	}
	if s.Len() != 1 || s.Bytes() != size("kept") {
		t.Errorf("Len, Bytes = %d, %d; want 1, %d", s.Len(), s.Bytes(), size("kept"))
	}
	mustAppend(t, s, "next") // the temp file's ID 9 was never handed out
	want := []rec{{1, "kept"}, {2, "next"}}
	if got := drain(t, s); !slices.Equal(got, want) {
		t.Errorf("drain = %+v, want %+v", got, want)
	}
}

func TestConcurrentAppend(t *testing.T) {
	const writers, perWriter = 6, 30
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if err := s.Append(fmt.Appendf(nil, "w%d-%03d", w, i)); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				_, _ = s.Len(), s.Bytes()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// Replay at the same time as the writers, like the batch writer does
	// when ClickHouse comes back during an outage's tail.
	var got []rec
replay:
	for len(got) < writers*perWriter/2 {
		r, err := s.Next()
		if err == io.EOF {
			select {
			case <-done:
				break replay
			default:
				runtime.Gosched()
				continue
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec{r.ID, string(r.Payload)})
		if err := s.Remove(r.ID); err != nil {
			t.Fatal(err)
		}
	}
	<-done
	if t.Failed() {
		return
	}
	got = append(got, drain(t, s)...)
	checkState(t, s, dir, nil, 0)

	// Every record exactly once, IDs 1..n in order, and each writer's
	// records in the order it appended them.
	if len(got) != writers*perWriter {
		t.Fatalf("got %d records, want %d", len(got), writers*perWriter)
	}
	seen := map[string]bool{}
	last := map[string]string{}
	for i, r := range got {
		if r.ID != uint64(i+1) {
			t.Errorf("record %d has ID %d, want %d", i, r.ID, i+1)
		}
		if seen[r.Payload] {
			t.Errorf("payload %q returned twice", r.Payload)
		}
		seen[r.Payload] = true
		writer, _, _ := strings.Cut(r.Payload, "-")
		if r.Payload <= last[writer] {
			t.Errorf("payload %q after %q: writer order lost", r.Payload, last[writer])
		}
		last[writer] = r.Payload
	}
}

func TestOpenLocksDir(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
	default:
		t.Skip("no directory lock on", runtime.GOOS)
	}
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})
	if s2, err := spool.Open(spool.Config{Dir: dir}); err == nil {
		s2.Close()
		t.Fatal("second Open of the same Dir succeeded, want an error")
	}
	mustClose(t, s)
	s = open(t, spool.Config{Dir: dir})
	mustClose(t, s)
}

func TestClosed(t *testing.T) {
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})
	mustAppend(t, s, "a")
	mustClose(t, s)

	if err := s.Append([]byte("b")); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Append after Close = %v, want fs.ErrClosed", err)
	}
	if r, err := s.Next(); !errors.Is(err, fs.ErrClosed) || r.ID != 0 || r.Payload != nil {
		t.Errorf("Next after Close = %+v, %v; want zero Record, fs.ErrClosed", r, err)
	}
	if err := s.Remove(1); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Remove after Close = %v, want fs.ErrClosed", err)
	}
	if err := s.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v, want fs.ErrClosed", err)
	}
	checkState(t, s, dir, []uint64{1}, size("a"))
}

func TestRemoveUnknown(t *testing.T) {
	dir := t.TempDir()
	s := open(t, spool.Config{Dir: dir})
	mustAppend(t, s, "a", "b")
	for _, id := range []uint64{0, 3, 42} {
		if err := s.Remove(id); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Remove(%d) = %v, want fs.ErrNotExist", id, err)
		}
	}
	if err := s.Remove(2); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(2); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Remove(2) = %v, want fs.ErrNotExist", err)
	}
	checkState(t, s, dir, []uint64{1}, size("a"))
}

func TestOpenErrors(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	badHighWater := t.TempDir()
	if err := os.WriteFile(filepath.Join(badHighWater, "highwater"), []byte("12x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  spool.Config
		want []string // substrings of the error
	}{
		{"no dir", spool.Config{}, []string{"Dir is required"}},
		{"negative cap", spool.Config{Dir: t.TempDir(), MaxBytes: -1}, []string{"MaxBytes must not be negative", "got -1"}},
		{"every problem at once", spool.Config{MaxBytes: -5}, []string{"Dir is required", "got -5"}},
		{"dir is a file", spool.Config{Dir: notDir}, []string{notDir}},
		{"bad high-water mark", spool.Config{Dir: badHighWater}, []string{"high-water mark", "12x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := spool.Open(tt.cfg)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want an error")
			}
			if s != nil {
				t.Errorf("Open returned a Spool with error %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) || !strings.HasPrefix(err.Error(), "spool: open") {
					t.Errorf("Open error %q does not start with %q and contain %q", err, "spool: open", w)
				}
			}
		})
	}
}

// TestFileFormat pins the on-disk format: files written by one version must
// be readable by the next.
func TestFileFormat(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "spool")
	s := open(t, spool.Config{Dir: dir})
	mustAppend(t, s, "123456789")

	p := filepath.Join(dir, "00000000000000000001.batch")
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte("VSPL" + // magic
		"\x01" + // version
		"\x09\x00\x00\x00" + // payload length, little-endian
		"\x83\x92\x06\xe3" + // CRC-32C of "123456789" (the standard check value 0xe3069283), little-endian
		"123456789")
	if !bytes.Equal(got, want) {
		t.Errorf("file contents = %q, want %q", got, want)
	}
	for path, mode := range map[string]fs.FileMode{p: 0o600, dir: fs.ModeDir | 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != mode {
			t.Errorf("mode of %s = %v (%v), want %v", path, fi.Mode(), err, mode)
		}
	}

	// And a file written by hand in that format is read back.
	mustClose(t, s)
	if err := os.WriteFile(filepath.Join(dir, fileName(7)), want, 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, spool.Config{Dir: dir})
	wantRecs := []rec{{1, "123456789"}, {7, "123456789"}}
	if got := drain(t, s); !slices.Equal(got, wantRecs) {
		t.Errorf("drain = %+v, want %+v", got, wantRecs)
	}
	if got := s.Corrupt(); got != 0 {
		t.Errorf("Corrupt() = %d, want 0", got)
	}
}

func BenchmarkAppend(b *testing.B) {
	dir := b.TempDir()
	s := open(b, spool.Config{Dir: dir})
	payload := bytes.Repeat([]byte("0123456789abcdef"), 64<<10/16) // 64 KiB
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	var next uint64 = 1
	for b.Loop() {
		if err := s.Append(payload); err != nil {
			b.Fatal(err)
		}
		if s.Len() == 256 { // keep the disk use at 16 MiB
			b.StopTimer()
			for range 256 {
				if err := s.Remove(next); err != nil {
					b.Fatal(err)
				}
				next++
			}
			b.StartTimer()
		}
	}
}
