// Package password hashes and verifies dashboard users' passwords with
// argon2id, stores them in the PHC string format, and holds the password
// policy. It keeps no state; the dashboard (and the CLI that creates users)
// may import it.
//
// Every Hash and Verify allocates 64 MiB and takes about 150 ms on a 2-vCPU
// machine (BenchmarkHash): callers must bound how many run at once (rate
// limit logins, cap concurrent verifications) or a burst of login attempts
// exhausts memory.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The argon2id parameters of new hashes. Verify reads the parameters from
// each stored hash, so these can be raised at any time: old hashes keep
// verifying, and NeedsRehash tells the login handler to store a new hash
// while it has the password in hand.
//
// OWASP's Password Storage Cheat Sheet asks for argon2id with at least
// 19 MiB of memory, 2 iterations and 1 degree of parallelism (or one of its
// equivalent trade-offs, such as 46 MiB and 1 iteration). These parameters
// are above that on every axis: 64 MiB, 3 passes, 2 lanes is RFC 9106's
// second recommended option ("if much less memory is available") with 2
// lanes instead of 4, to match the 2-vCPU machines Verity targets: lanes
// beyond the cores only add scheduling, and the memory cost per guess, which
// is what makes GPU and ASIC attacks expensive, is set by the memory and the
// passes. The cost is about 150 ms per login on such a machine.
const (
	memoryKiB = 64 * 1024 // memory cost, KiB (64 MiB)
	passes    = 3         // time cost: passes over the memory
	lanes     = 2         // degree of parallelism
	saltLen   = 16        // bytes; RFC 9106 recommends 16
	keyLen    = 32        // bytes of tag; RFC 9106 recommends at least 16 for passwords
)

// Policy limits, in bytes of the password as typed (UTF-8).
const (
	// MinLength is the shortest password Validate accepts. Length is what
	// makes a password strong; no composition rules (NIST SP 800-63B).
	MinLength = 10
	// MaxLength is the longest password accepted; it bounds the work an
	// unauthenticated request can cause. Hash refuses longer passwords and
	// Verify never accepts them.
	MaxLength = 1024
)

// Bounds on the parameters Verify accepts from a stored hash. A hash
// string is data: one planted with m=4294967295 must not make Verify
// allocate 4 TiB. They are checked before argon2 runs.
const (
	maxMemoryKiB  = 1 << 20 // 1 GiB
	maxPasses     = 10
	maxLanes      = 16
	minSaltLen    = 8  // RFC 9106's minimum
	maxSaltLen    = 64 // bytes
	minKeyLen     = 16 // bytes
	maxKeyLen     = 64 // bytes
	maxEncodedLen = 256
	version       = argon2.Version // 0x13, written as v=19
	prefix        = "$argon2id$v=19$"
)

var (
	// ErrMalformed is wrapped by the errors of Verify for an encoded hash
	// that is not a well-formed argon2id hash within the accepted bounds.
	ErrMalformed = errors.New("password: malformed hash")

	// ErrTooShort, ErrTooLong and ErrBlank are returned by Validate (and
	// ErrTooLong by Hash); their messages can be shown to the user.
	ErrTooShort = fmt.Errorf("password is too short: use at least %d characters", MinLength)
	ErrTooLong  = fmt.Errorf("password is too long: use at most %d bytes", MaxLength)
	ErrBlank    = errors.New("password must not be only spaces")
)

// params are the argon2id cost parameters of one hash.
type params struct {
	memory  uint32 // KiB
	passes  uint32
	lanes   uint8
	saltLen int
	keyLen  int
}

// current are the parameters of new hashes.
func current() params {
	return params{memory: memoryKiB, passes: passes, lanes: lanes, saltLen: saltLen, keyLen: keyLen}
}

// Hash returns the argon2id hash of password, with a new random salt, in
// the PHC string format:
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>
//
// where salt and hash are unpadded standard base64. Hash does not apply the
// policy (call Validate for a new password); it refuses only passwords
// longer than MaxLength.
func Hash(password string) (string, error) {
	if len(password) > MaxLength {
		return "", ErrTooLong
	}
	p := current()
	salt := make([]byte, p.saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	return encode(p, salt, derive(password, salt, p)), nil
}

// Verify reports whether password matches encoded, a hash made by Hash
// (with the current parameters or any earlier ones within the bounds). The
// comparison takes constant time. The error, which wraps ErrMalformed, is
// only for an encoded string that is not a usable argon2id hash; a wrong
// password is false with a nil error.
func Verify(password, encoded string) (ok bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if len(password) > MaxLength {
		return false, nil // Hash never made it; spare the work
	}
	got := derive(password, salt, p)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether encoded should be replaced by a new Hash of
// the same password: its parameters, salt or key length differ from those
// of new hashes, or it is malformed. Call it after a successful Verify.
func NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != current()
}

// Validate checks a new password against the policy: MinLength to
// MaxLength bytes, not only whitespace. It returns ErrTooShort, ErrTooLong
// or ErrBlank. There are no composition rules: they do not make passwords
// stronger, length does.
func Validate(password string) error {
	switch {
	case strings.TrimSpace(password) == "":
		return ErrBlank
	case len(password) < MinLength:
		return ErrTooShort
	case len(password) > MaxLength:
		return ErrTooLong
	}
	return nil
}

func derive(password string, salt []byte, p params) []byte {
	return argon2.IDKey([]byte(password), salt, p.passes, p.memory, p.lanes, uint32(p.keyLen))
}

func encode(p params, salt, key []byte) string {
	return fmt.Sprintf("%sm=%d,t=%d,p=%d$%s$%s", prefix, p.memory, p.passes, p.lanes,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// decode parses a PHC argon2id string strictly: exactly the form encode
// writes (no optional fields, no leading zeros, no padding, canonical
// base64), so every accepted string has one spelling, and every parameter
// within the bounds above.
func decode(encoded string) (p params, salt, key []byte, err error) {
	malformed := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
	if len(encoded) > maxEncodedLen {
		return p, nil, nil, malformed("%d bytes long, more than %d", len(encoded), maxEncodedLen)
	}
	rest, ok := strings.CutPrefix(encoded, prefix)
	if !ok {
		switch {
		case !strings.HasPrefix(encoded, "$argon2id$"):
			return p, nil, nil, malformed("not an argon2id hash")
		default:
			return p, nil, nil, malformed("not argon2 version 19")
		}
	}
	fields := strings.Split(rest, "$")
	if len(fields) != 3 {
		return p, nil, nil, malformed("want parameters, salt and hash, got %d fields", len(fields))
	}

	m, t, l, ok := parseParams(fields[0])
	if !ok {
		return p, nil, nil, malformed("parameters are not m=<KiB>,t=<passes>,p=<lanes>")
	}
	switch {
	case t < 1 || t > maxPasses:
		return p, nil, nil, malformed("t=%d out of 1..%d", t, maxPasses)
	case l < 1 || l > maxLanes:
		return p, nil, nil, malformed("p=%d out of 1..%d", l, maxLanes)
	case m < 8*l || m > maxMemoryKiB:
		return p, nil, nil, malformed("m=%d out of %d..%d", m, 8*l, maxMemoryKiB)
	}

	if salt, ok = decodeB64(fields[1], minSaltLen, maxSaltLen); !ok {
		return p, nil, nil, malformed("salt is not %d to %d bytes of unpadded base64", minSaltLen, maxSaltLen)
	}
	if key, ok = decodeB64(fields[2], minKeyLen, maxKeyLen); !ok {
		return p, nil, nil, malformed("hash is not %d to %d bytes of unpadded base64", minKeyLen, maxKeyLen)
	}
	return params{memory: m, passes: t, lanes: uint8(l), saltLen: len(salt), keyLen: len(key)}, salt, key, nil
}

// parseParams parses "m=<uint>,t=<uint>,p=<uint>" in that order.
func parseParams(s string) (m, t, p uint32, ok bool) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var v [3]uint32
	for i, name := range [3]string{"m=", "t=", "p="} {
		digits, found := strings.CutPrefix(parts[i], name)
		if !found {
			return 0, 0, 0, false
		}
		if v[i], found = parseUint32(digits); !found {
			return 0, 0, 0, false
		}
	}
	return v[0], v[1], v[2], true
}

// parseUint32 parses decimal digits only: no sign, no leading zero, no
// underscores, and at most 10 digits before strconv sees them.
func parseUint32(s string) (uint32, bool) {
	if s == "" || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err == nil
}

// decodeB64 decodes canonical unpadded standard base64 of min to max bytes.
func decodeB64(s string, minLen, maxLen int) ([]byte, bool) {
	enc := base64.RawStdEncoding.Strict()
	n := enc.DecodedLen(len(s))
	if n < minLen || n > maxLen || enc.EncodedLen(n) != len(s) {
		return nil, false
	}
	b, err := enc.DecodeString(s)
	if err != nil || len(b) != n { // shorter: the decoder skipped a line break
		return nil, false
	}
	return b, true
}
