package spool

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	valid := encode([]byte("hello"))
	with := func(i int, v byte) []byte {
		b := bytes.Clone(valid)
		b[i] = v
		return b
	}
	tests := []struct {
		name        string
		in          []byte
		wantPayload []byte
		wantErr     string // "" means no error
	}{
		{"valid", valid, []byte("hello"), ""},
		{"valid empty payload", encode(nil), []byte{}, ""},
		{"nil", nil, nil, "0 bytes is shorter than the 13-byte header"},
		{"header only, payload missing", valid[:headerSize], nil, "header says 5 bytes, file holds 0"},
		{"one byte short of a header", valid[:headerSize-1], nil, "12 bytes is shorter than the 13-byte header"},
		{"truncated", valid[:len(valid)-1], nil, "header says 5 bytes, file holds 4"},
		{"extended", append(bytes.Clone(valid), '!'), nil, "header says 5 bytes, file holds 6"},
		{"bad magic", with(3, 'X'), nil, `bad magic "VSPX"`},
		{"version 0", with(4, 0), nil, "unknown format version 0"},
		{"version 2", with(4, 2), nil, "unknown format version 2"},
		{"length over maximum", with(8, 0x10), nil, "payload length 268435461 exceeds the maximum 268435456"},
		{"payload byte flipped", with(headerSize, 'H'), nil, "checksum mismatch"},
		{"checksum byte flipped", with(12, valid[12]^1), nil, "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode(tt.in)
			if !bytes.Equal(got, tt.wantPayload) || (got == nil) != (tt.wantPayload == nil) {
				t.Errorf("payload = %q, want %q", got, tt.wantPayload)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("err = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want errCorrupt containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		name   string
		wantID uint64
		wantOK bool
	}{
		{"00000000000000000000.batch", 0, true},
		{"00000000000000000042.batch", 42, true},
		{"18446744073709551615.batch", math.MaxUint64, true},
		{"18446744073709551616.batch", 0, false}, // overflows uint64
		{"99999999999999999999.batch", 0, false},
		{"42.batch", 0, false},
		{"000000000000000000042.batch", 0, false},
		{"+0000000000000000042.batch", 0, false},
		{"0000000000000000004a.batch", 0, false},
		{"00000000000000000042.batch.tmp", 0, false},
		{"00000000000000000042", 0, false},
		{"highwater", 0, false},
		{"corrupt", 0, false},
	}
	for _, tt := range tests {
		id, ok := parseName(tt.name)
		if id != tt.wantID || ok != tt.wantOK {
			t.Errorf("parseName(%q) = %d, %v; want %d, %v", tt.name, id, ok, tt.wantID, tt.wantOK)
		}
		if ok && fileName(id) != tt.name {
			t.Errorf("fileName(%d) = %q, want %q", id, fileName(id), tt.name)
		}
	}
}

func TestDefaultMaxBytes(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.max != 1<<30 {
		t.Errorf("max = %d, want 1 GiB", s.max)
	}
}

// FuzzDecode checks decode on arbitrary file contents, which come from a
// disk that may hold anything after a crash or a bit flip. Invariants:
//
//  1. decode never panics.
//  2. On error, the payload is nil and the error wraps errCorrupt (so that
//     Next moves the file aside instead of failing forever).
//  3. On success, the payload is at most MaxPayload bytes, the input is
//     exactly header + payload, and re-encoding the payload gives back the
//     input byte for byte: there is one valid encoding per payload.
//  4. Any input, taken as a payload, survives encode then decode unchanged.
func FuzzDecode(f *testing.F) {
	f.Add(encode([]byte("hello")))
	f.Add(encode(nil))
	f.Add(encode([]byte("123456789")))
	f.Add(encode(bytes.Repeat([]byte{0xff}, 300)))
	f.Add([]byte("VSPL\x01\x01\x00\x00\x10\x00\x00\x00\x00")) // length over the maximum
	f.Add([]byte("VSPL\x01\x05\x00\x00\x00"))                 // header cut short
	f.Add([]byte("VSPL"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		payload, err := decode(in)
		if err != nil {
			if payload != nil {
				t.Fatalf("decode returned payload %q with error %v", payload, err)
			}
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("decode error %v does not wrap errCorrupt", err)
			}
		} else {
			if len(payload) > MaxPayload {
				t.Fatalf("payload of %d bytes is over MaxPayload", len(payload))
			}
			if len(in) != headerSize+len(payload) {
				t.Fatalf("input of %d bytes decoded to a %d-byte payload", len(in), len(payload))
			}
			if re := encode(payload); !bytes.Equal(re, in) {
				t.Fatalf("re-encoding differs:\n in %q\nout %q", in, re)
			}
		}

		if len(in) <= MaxPayload {
			got, err := decode(encode(in))
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("decode(encode(%q)) = %q, %v", in, got, err)
			}
		}
	})
}
