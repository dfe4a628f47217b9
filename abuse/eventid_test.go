package abuse

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// TestEventIDGolden pins the id: changing it stops stored and new rows
// from deduplicating.
func TestEventIDGolden(t *testing.T) {
	t.Parallel()
	site := [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}
	plid := [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

	// The documented layout, computed independently (and checked with
	// Python's hashlib for the golden value).
	msg := append([]byte("verity/event/v1\x00"), site[:]...)
	msg = append(msg, plid[:]...)
	msg = binary.LittleEndian.AppendUint32(msg, 42)
	msg = binary.LittleEndian.AppendUint16(msg, 3)
	sum := sha256.Sum256(msg)
	if got, want := EventID(site, plid, 42, 3), binary.LittleEndian.Uint64(sum[:8]); got != want {
		t.Errorf("EventID = %#x, the documented layout gives %#x", got, want)
	}
	if got, golden := EventID(site, plid, 42, 3), uint64(0x628412412166c567); got != golden {
		t.Errorf("EventID = %#x, golden %#x", got, golden)
	}
	if got := EventID(site, plid, 42, 3); got != EventID(site, plid, 42, 3) {
		t.Errorf("EventID is not deterministic")
	}
}

// TestEventIDDiffers: every field changes the id, and fields do not stand
// in for each other.
func TestEventIDDiffers(t *testing.T) {
	t.Parallel()
	site, plid := [16]byte{1, 2, 3, 15: 4}, [16]byte{5, 6, 7, 15: 8}
	type input struct {
		site, plid [16]byte
		seq        uint32
		index      uint16
	}
	base := input{site, plid, 7, 0}
	seen := map[uint64]input{}
	add := func(name string, in input) {
		t.Helper()
		id := EventID(in.site, in.plid, in.seq, in.index)
		if prev, dup := seen[id]; dup {
			t.Errorf("%s: EventID(%+v) = %#x, same as %+v", name, in, id, prev)
		}
		seen[id] = in
	}
	add("base", base)
	for j := range 16 {
		in := base
		in.site[j] ^= 1
		add("site byte", in)
		in = base
		in.plid[j] ^= 0x80
		add("plid byte", in)
	}
	for _, seq := range []uint32{0, 6, 8, 1 << 16, 1<<32 - 1} {
		in := base
		in.seq = seq
		add("seq", in)
	}
	for _, index := range []uint16{1, 7, 1 << 8, 1<<16 - 1} {
		in := base
		in.index = index
		add("index", in)
	}
	add("site and plid swapped", input{plid, site, 7, 0})
	add("seq and index swapped", input{site, plid, 0, 7})
	add("zero", input{})
	// Sequence numbers of one page load, as a batch.
	for seq := range uint32(2000) {
		for index := range uint16(3) {
			add("batch", input{site, [16]byte{9, 9}, seq, index})
		}
	}
}

func TestEventIDDoesNotAllocate(t *testing.T) {
	if n := testing.AllocsPerRun(1000, func() { EventID([16]byte{1}, [16]byte{2}, 3, 4) }); n != 0 {
		t.Errorf("EventID: %v allocations, want 0", n)
	}
}

func BenchmarkEventID(b *testing.B) {
	site, plid := [16]byte{1}, [16]byte{2}
	b.ReportAllocs()
	seq := uint32(0)
	for b.Loop() {
		EventID(site, plid, seq, 0)
		seq++
	}
}
