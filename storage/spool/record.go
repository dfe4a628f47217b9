package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// On-disk format of one record file (all integers little-endian):
//
//	offset size field
//	0      4    magic "VSPL"
//	4      1    format version (1)
//	5      4    payload length in bytes (uint32)
//	9      4    CRC-32C (Castagnoli) of the payload (uint32)
//	13     n    payload
//
// A file is valid only if its length is exactly headerSize+n: a truncated or
// extended file is rejected, as is any other magic, version or checksum.
const (
	magic         = "VSPL"
	formatVersion = 1
	headerSize    = 13
)

// MaxPayload is the largest payload Append accepts: 256 MiB.
const MaxPayload = 256 << 20

// errCorrupt marks decode failures: the file is moved aside rather than the
// error returned to the caller of Next.
var errCorrupt = errors.New("corrupt record")

// header returns the header of a record holding payload. The caller has
// checked len(payload) <= MaxPayload.
func header(payload []byte) [headerSize]byte {
	var h [headerSize]byte
	copy(h[0:4], magic)
	h[4] = formatVersion
	binary.LittleEndian.PutUint32(h[5:9], uint32(len(payload)))
	binary.LittleEndian.PutUint32(h[9:13], checksum(payload))
	return h
}

// encode returns the full file contents of a record holding payload.
func encode(payload []byte) []byte {
	h := header(payload)
	return append(h[:], payload...)
}

// decode checks the file contents b and returns the payload, which aliases b.
// Every error wraps errCorrupt.
func decode(b []byte) ([]byte, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than the %d-byte header", errCorrupt, len(b), headerSize)
	}
	if string(b[0:4]) != magic {
		return nil, fmt.Errorf("%w: bad magic %q", errCorrupt, b[0:4])
	}
	if b[4] != formatVersion {
		return nil, fmt.Errorf("%w: unknown format version %d", errCorrupt, b[4])
	}
	n := binary.LittleEndian.Uint32(b[5:9])
	if n > MaxPayload {
		return nil, fmt.Errorf("%w: payload length %d exceeds the maximum %d", errCorrupt, n, MaxPayload)
	}
	if got := uint64(len(b) - headerSize); got != uint64(n) {
		return nil, fmt.Errorf("%w: payload length mismatch: header says %d bytes, file holds %d", errCorrupt, n, got)
	}
	payload := b[headerSize:]
	want := binary.LittleEndian.Uint32(b[9:13])
	if got := checksum(payload); got != want {
		return nil, fmt.Errorf("%w: checksum mismatch: header says %#08x, payload has %#08x", errCorrupt, want, got)
	}
	return payload, nil
}

// checksum returns the CRC-32C of p. MakeTable returns the standard
// library's shared Castagnoli table, built once, so this does not allocate.
func checksum(p []byte) uint32 {
	return crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli))
}
