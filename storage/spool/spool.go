// Package spool is the on-disk spool of the ClickHouse batch writer. While
// ClickHouse is unreachable, each batch (a payload the caller has already
// encoded; the spool never looks inside) is appended as one file, and when
// ClickHouse is back the batches are replayed oldest first: Next returns the
// oldest record, and Remove deletes it once it has been written.
//
// A record is durable when Append returns: it survives a crash or restart
// and is never reused or overwritten. A file that fails its checks is moved
// aside into Dir/corrupt/ and reported, and the replay goes on with the next
// one.
//
// The spool owns every file in its directory:
//
//	00000000000000000042.batch  one record; the name is its ID (format in record.go)
//	*.tmp                       an unfinished write, removed by Open
//	highwater                   the highest ID handed out, kept when that record's file is gone
//	corrupt/                    files that failed their checks, for an operator to inspect
//
// Its one user is the ClickHouse batch writer, which owns the directory. It
// uses only the standard library and imports nothing from Verity.
package spool

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxBytes is the cap on spooled bytes when Config.MaxBytes is 0.
const DefaultMaxBytes = 1 << 30

// Errors Append returns; test them with errors.Is.
var (
	// ErrFull means the record would take the spool over Config.MaxBytes.
	// The caller should refuse new work (HTTP 503) until Remove frees space.
	ErrFull = errors.New("spool: full")
	// ErrTooLarge means the payload is over MaxPayload bytes. Retrying
	// cannot help: the caller must split the batch.
	ErrTooLarge = errors.New("spool: payload too large")
)

const (
	recordExt     = ".batch"
	tmpExt        = ".tmp"
	highWaterName = "highwater"
	corruptDir    = "corrupt"
	idDigits      = 20 // enough for any uint64
)

// Config configures a Spool.
type Config struct {
	// Dir is the spool's directory, created with mode 0o700 if missing.
	// Required. Only one Spool may use a directory at a time; on Linux,
	// macOS and the BSDs, Open enforces this with flock(2).
	Dir string
	// MaxBytes caps the total size in bytes of the record files (headers
	// included, Dir/corrupt/ excluded); Append returns ErrFull beyond it.
	// 0 means DefaultMaxBytes (1 GiB). Must not be negative.
	MaxBytes int64
	// OnCorrupt, if not nil, is called once for every record file that Next
	// skips because it failed its checks (bad magic or version, length
	// mismatch, checksum mismatch) or disappeared. path is where the file is
	// now, normally under Dir/corrupt/ (for a file that disappeared, where
	// it was); err says what is wrong and names the file. It is called
	// synchronously from Next, without the spool's lock held, so it may call
	// the Spool's methods. Corrupt counts the same files.
	OnCorrupt func(path string, err error)
}

func (c Config) validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("config: Dir is required"))
	}
	if c.MaxBytes < 0 {
		errs = append(errs, fmt.Errorf("config: MaxBytes must not be negative (0 means %d), got %d", DefaultMaxBytes, c.MaxBytes))
	}
	return errors.Join(errs...)
}

// Record is one spooled batch.
type Record struct {
	// ID is the record's sequence number, unique for the life of the
	// directory and increasing in Append order.
	ID uint64
	// Payload is the batch exactly as given to Append. The caller owns it.
	Payload []byte
}

// Spool is an on-disk FIFO queue of records. It is safe for concurrent use:
// any number of goroutines may Append, while Next and Remove are meant for
// the one goroutine that replays the records.
type Spool struct {
	dir       string
	max       int64
	onCorrupt func(string, error)
	d         *os.File // dir, kept open for fsync and the lock

	// appendMu serialises Append, so that files are committed in ID order
	// and Next never sees a record before an older one that is still being
	// written. It is taken before mu. Append holds it across its fsyncs but
	// takes mu only briefly, so Next, Len and Bytes never wait for them.
	appendMu sync.Mutex

	mu        sync.Mutex // guards the fields below
	closed    bool
	recs      []rec  // committed records, ascending ID
	bytes     int64  // sum of recs[i].size
	next      uint64 // ID of the next Append
	highWater uint64 // value in the highwater file, 0 if none
	corrupt   int
}

type rec struct {
	id   uint64
	size int64
}

// Open opens the spool in cfg.Dir, creating the directory if needed. It
// removes the temporary files left by a crash, and the sequence continues
// after the highest ID ever stored in this directory, even if its file has
// been removed since. Existing records
// are checked only when Next reaches them. Close releases the directory.
func Open(cfg Config) (*Spool, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("spool: open: %w", err)
	}
	if err := mkdirAll(cfg.Dir); err != nil {
		return nil, fmt.Errorf("spool: open: create %s: %w", cfg.Dir, err)
	}
	d, err := os.Open(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("spool: open: %w", err)
	}
	if err := lockDir(d); err != nil {
		d.Close()
		return nil, fmt.Errorf("spool: open: lock %s: %w", cfg.Dir, err)
	}
	s := &Spool{
		dir:       cfg.Dir,
		max:       cfg.MaxBytes,
		onCorrupt: cfg.OnCorrupt,
		d:         d,
	}
	if s.max == 0 {
		s.max = DefaultMaxBytes
	}
	if err := s.scan(); err != nil {
		d.Close()
		return nil, fmt.Errorf("spool: open %s: %w", cfg.Dir, err)
	}
	return s, nil
}

// scan loads the directory's state into s.
func (s *Spool) scan() error {
	// ReadDir sorts by name, and names sort like IDs: s.recs comes out in
	// ascending ID order.
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var last uint64
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, tmpExt) && e.Type().IsRegular():
			// The write never committed: its Append returned an error or
			// never returned.
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove temporary file: %w", err)
			}
		case name == highWaterName:
			if s.highWater, err = readHighWater(filepath.Join(s.dir, name)); err != nil {
				return err
			}
		default:
			id, ok := parseName(name)
			if !ok || !e.Type().IsRegular() {
				continue // not ours: leave it alone
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			s.recs = append(s.recs, rec{id: id, size: info.Size()})
			s.bytes += info.Size()
			last = max(last, id)
		}
	}
	last = max(last, s.highWater)
	if last == math.MaxUint64 {
		return errors.New("record IDs exhausted")
	}
	s.next = last + 1
	return nil
}

// Append stores payload as the newest record. When it returns nil the record
// is on disk (written to a temporary file, fsynced, renamed, directory
// fsynced). It returns an error wrapping ErrTooLarge if the payload is over
// MaxPayload, or ErrFull if the record would take the spool over MaxBytes.
// Append does not keep payload.
func (s *Spool) Append(payload []byte) error {
	if len(payload) > MaxPayload {
		return fmt.Errorf("spool: append: %w: %d bytes, the maximum is %d", ErrTooLarge, len(payload), MaxPayload)
	}
	size := int64(headerSize + len(payload))

	s.appendMu.Lock()
	defer s.appendMu.Unlock()

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("spool: append: %w", fs.ErrClosed)
	}
	// Only Append adds bytes, and appendMu excludes other Appends, so the
	// check still holds when the record is committed below.
	if s.bytes+size > s.max {
		used := s.bytes
		s.mu.Unlock()
		return fmt.Errorf("spool: append: %w: %d of %d bytes used, the record needs %d", ErrFull, used, s.max, size)
	}
	id := s.next
	if id == 0 {
		s.mu.Unlock()
		return errors.New("spool: append: record IDs exhausted")
	}
	// The ID is consumed even if the write fails: it was never returned by
	// Next, so nobody can confuse it with another record.
	s.next++
	s.mu.Unlock()

	if err := s.write(id, payload); err != nil {
		return fmt.Errorf("spool: append: %w", err)
	}

	s.mu.Lock()
	s.recs = append(s.recs, rec{id: id, size: size})
	s.bytes += size
	s.mu.Unlock()
	return nil
}

// write commits the record file for id. On error it removes what it wrote,
// as far as it can.
func (s *Spool) write(id uint64, payload []byte) error {
	final := s.path(id)
	tmp := final + tmpExt
	h := header(payload)
	if err := writeFileSync(tmp, h[:], payload); err != nil {
		return errors.Join(err, removeIfExists(tmp))
	}
	if err := os.Rename(tmp, final); err != nil {
		return errors.Join(fmt.Errorf("commit record: %w", err), removeIfExists(tmp))
	}
	if err := s.d.Sync(); err != nil {
		// The rename may or may not survive a crash. Undo it, since the
		// caller will see the error and keep or retry the batch. If the
		// undo fails, a restart replays the record: a duplicate, not a loss.
		return errors.Join(fmt.Errorf("commit record: sync directory: %w", err), removeIfExists(final))
	}
	return nil
}

// Next returns the oldest record, or io.EOF if the spool is empty. It does
// not consume the record: Next returns the same one until it is Removed.
//
// A record file that fails its checks is moved into Dir/corrupt/, counted
// (see Corrupt) and reported to Config.OnCorrupt, and Next goes on to the
// following record. Other errors (such as a failing disk) are returned, and
// the record stays in the spool.
func (s *Spool) Next() (Record, error) {
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return Record{}, fmt.Errorf("spool: next: %w", fs.ErrClosed)
		}
		if len(s.recs) == 0 {
			s.mu.Unlock()
			return Record{}, io.EOF
		}
		id := s.recs[0].id
		s.mu.Unlock()

		// Read without the lock, so that Append is not held up by a large
		// read. A concurrent Remove is caught by skip.
		payload, err := s.read(id)
		if err == nil {
			return Record{ID: id, Payload: payload}, nil
		}
		if !errors.Is(err, errCorrupt) && !errors.Is(err, fs.ErrNotExist) {
			return Record{}, fmt.Errorf("spool: next: %w", err)
		}
		if err := s.skip(id, err); err != nil {
			return Record{}, fmt.Errorf("spool: next: %w", err)
		}
	}
}

// read returns the payload of the record file for id. Errors that mean the
// file itself is bad wrap errCorrupt.
func (s *Spool) read(id uint64) ([]byte, error) {
	p := s.path(id)
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", p, errCorrupt)
	}
	if info.Size() > headerSize+MaxPayload {
		// Checked before allocating: the size comes from the disk.
		return nil, fmt.Errorf("%s: %w: %d bytes is larger than any record", p, errCorrupt, info.Size())
	}
	b := make([]byte, info.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%s: %w: the file shrank while being read", p, errCorrupt)
		}
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	payload, err := decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return payload, nil
}

// skip takes the record id out of the queue because reading it failed with
// cause (corrupt or missing file): it moves the file into Dir/corrupt/,
// counts it and reports it. If the file cannot be moved, it is skipped
// anyway (and found again by the next Open), so that one bad file never
// blocks the others. skip returns an error only if the spool is closed.
func (s *Spool) skip(id uint64, cause error) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fs.ErrClosed
	}
	i, ok := s.find(id)
	if !ok {
		s.mu.Unlock()
		return nil // removed meanwhile
	}
	path := s.path(id)
	var err error
	if errors.Is(cause, errCorrupt) {
		path, err = s.moveAside(i)
	} else {
		// The file is gone already; only its ID needs protecting.
		err = s.keepHighWater(i)
	}
	s.drop(i)
	s.corrupt++
	s.mu.Unlock()

	if s.onCorrupt != nil {
		s.onCorrupt(path, errors.Join(cause, err))
	}
	return nil
}

// moveAside moves the file of s.recs[i] into Dir/corrupt/ and returns where
// the file is (its old path if the move failed). s.mu is held.
func (s *Spool) moveAside(i int) (string, error) {
	src := s.path(s.recs[i].id)
	if err := s.keepHighWater(i); err != nil {
		return src, err // the file stays, and keeps its ID taken
	}
	cdir := filepath.Join(s.dir, corruptDir)
	if err := mkdirAll(cdir); err != nil {
		return src, fmt.Errorf("move aside: %w", err)
	}
	name := filepath.Base(src)
	dst := filepath.Join(cdir, name)
	// Never overwrite an earlier corrupt file: both are evidence.
	for n := 1; ; n++ {
		_, err := os.Lstat(dst)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return src, fmt.Errorf("move aside: %w", err)
		}
		dst = filepath.Join(cdir, name+"."+strconv.Itoa(n))
	}
	if err := os.Rename(src, dst); err != nil {
		return src, fmt.Errorf("move aside: %w", err)
	}
	if err := errors.Join(syncDir(cdir), s.d.Sync()); err != nil {
		// Not fatal: after a crash the file may be back in Dir, and is
		// caught again.
		return dst, fmt.Errorf("move aside: %w", err)
	}
	return dst, nil
}

// Remove deletes the record id, once the caller has written it to
// ClickHouse. It returns an error wrapping fs.ErrNotExist if there is no
// such record. The deletion is durable when Remove returns.
func (s *Spool) Remove(id uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("spool: remove %d: %w", id, fs.ErrClosed)
	}
	i, ok := s.find(id)
	if !ok {
		return fmt.Errorf("spool: remove %d: %w", id, fs.ErrNotExist)
	}
	if err := s.keepHighWater(i); err != nil {
		return fmt.Errorf("spool: remove %d: %w", id, err)
	}
	if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool: remove %d: %w", id, err)
	}
	s.drop(i)
	if err := s.d.Sync(); err != nil {
		// The record is out of the queue. If the deletion does not reach
		// the disk, a restart replays it once more.
		return fmt.Errorf("spool: remove %d: sync directory: %w", id, err)
	}
	return nil
}

// Len returns the number of records in the spool.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// Bytes returns the total size of the record files, headers included: the
// figure that Config.MaxBytes caps.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Corrupt returns the number of record files that Next has skipped since
// Open because they failed their checks or had disappeared.
func (s *Spool) Corrupt() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.corrupt
}

// Close waits for a running Append, then releases the directory. The
// methods then return errors wrapping fs.ErrClosed, except Len, Bytes and
// Corrupt, which keep their last values.
func (s *Spool) Close() error {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("spool: close: %w", fs.ErrClosed)
	}
	s.closed = true
	if err := s.d.Close(); err != nil {
		return fmt.Errorf("spool: close: %w", err)
	}
	return nil
}

// find returns the index of id in s.recs. s.mu is held.
func (s *Spool) find(id uint64) (int, bool) {
	return slices.BinarySearchFunc(s.recs, id, func(r rec, id uint64) int { return cmp.Compare(r.id, id) })
}

// drop takes s.recs[i] out of the queue. s.mu is held.
func (s *Spool) drop(i int) {
	s.bytes -= s.recs[i].size
	if i == 0 {
		// The usual case, replay in order: O(1). The backing array is
		// reclaimed when Append next grows the slice.
		s.recs[0] = rec{}
		s.recs = s.recs[1:]
		return
	}
	s.recs = slices.Delete(s.recs, i, i+1)
}

// keepHighWater makes sure that the ID of s.recs[i] stays taken after its
// file leaves Dir: if it is the highest ID on disk, it is first written to
// the highwater file, which Open reads. Without this, draining the spool and
// restarting would hand out the same IDs again. s.mu is held.
func (s *Spool) keepHighWater(i int) error {
	id := s.recs[i].id
	if i != len(s.recs)-1 || id <= s.highWater {
		return nil
	}
	p := filepath.Join(s.dir, highWaterName)
	if err := writeFileSync(p+tmpExt, []byte(strconv.FormatUint(id, 10)+"\n")); err != nil {
		return errors.Join(fmt.Errorf("save high-water mark: %w", err), removeIfExists(p+tmpExt))
	}
	if err := os.Rename(p+tmpExt, p); err != nil {
		return errors.Join(fmt.Errorf("save high-water mark: %w", err), removeIfExists(p+tmpExt))
	}
	if err := s.d.Sync(); err != nil {
		return fmt.Errorf("save high-water mark: sync directory: %w", err)
	}
	s.highWater = id
	return nil
}

func readHighWater(p string) (uint64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, fmt.Errorf("read high-water mark: %w", err)
	}
	// Written atomically by keepHighWater, so a bad value means something
	// else changed the file: refuse to guess, or IDs could be reused.
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read high-water mark %s: %w", p, err)
	}
	return v, nil
}

func (s *Spool) path(id uint64) string {
	return filepath.Join(s.dir, fileName(id))
}

// fileName returns the name of the record file for id: zero-padded, so that
// names sort like IDs.
func fileName(id uint64) string {
	return fmt.Sprintf("%0*d%s", idDigits, id, recordExt)
}

// parseName is the inverse of fileName.
func parseName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, recordExt)
	if !ok || len(digits) != idDigits {
		return 0, false
	}
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false // over 20 digits' worth of uint64
	}
	return id, true
}

// writeFileSync creates p (which must not exist) with mode 0o600, writes the
// chunks and fsyncs it.
func writeFileSync(p string, chunks ...[]byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	for _, c := range chunks {
		if _, err := f.Write(c); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func removeIfExists(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// mkdirAll is os.MkdirAll with mode 0o700 that also fsyncs the parent of
// every directory it creates, so that the directory itself survives a crash.
func mkdirAll(dir string) error {
	_, err := os.Stat(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		// It exists (if it is not a directory, using it fails later), or
		// Stat failed.
		return err
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirAll(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	return errors.Join(err, d.Close())
}
