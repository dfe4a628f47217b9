package password

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// hashWith hashes with chosen parameters and salt: for cheap fixtures, and
// for hashes made "before a parameter change".
func hashWith(t testing.TB, password string, salt []byte, p params) string {
	t.Helper()
	p.saltLen = len(salt)
	return encode(p, salt, derive(password, salt, p))
}

// cheap are parameters that take microseconds, for tests that only need
// some valid hash.
var cheap = params{memory: 64, passes: 1, lanes: 1, keyLen: 32}

var phcRE = regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=3,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashVerify(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	h1, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !phcRE.MatchString(h1) {
		t.Errorf("Hash = %q, want it to match %s", h1, phcRE)
	}
	if h1 == h2 {
		t.Errorf("two hashes of one password are equal (%q): the salt is not random", h1)
	}
	if h1[:len(h1)-44] == h2[:len(h2)-44] {
		t.Errorf("two hashes share a salt: %q, %q", h1, h2)
	}
	if NeedsRehash(h1) {
		t.Errorf("NeedsRehash(new hash) = true")
	}

	for _, tc := range []struct {
		name, password string
		want           bool
	}{
		{"same", pw, true},
		{"wrong", "correct horse battery stapler", false},
		{"case", "Correct horse battery staple", false},
		{"prefix", pw[:len(pw)-1], false},
		{"empty", "", false},
		{"too long", pw + strings.Repeat("x", MaxLength), false},
	} {
		ok, err := Verify(tc.password, h1)
		if ok != tc.want || err != nil {
			t.Errorf("%s: Verify = %v, %v; want %v, nil", tc.name, ok, err, tc.want)
		}
	}
}

// TestVerifyReference checks interoperability with the reference
// implementation (phc-winner-argon2's test vectors): hashes made elsewhere,
// including in ops tooling, verify here.
func TestVerifyReference(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		password, encoded string
		want              bool
	}{
		{"password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", true},
		{"password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", true},
		{"password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc", true},
		{"differentpassword", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94", true},
		{"passwore", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", false},
	} {
		ok, err := Verify(tc.password, tc.encoded)
		if ok != tc.want || err != nil {
			t.Errorf("Verify(%q, %q) = %v, %v; want %v, nil", tc.password, tc.encoded, ok, err, tc.want)
		}
		if !NeedsRehash(tc.encoded) {
			t.Errorf("NeedsRehash(%q) = false, want true (old parameters)", tc.encoded)
		}
	}
}

// TestOldParameters: a hash made before a parameter change still verifies,
// and is flagged for rehashing.
func TestOldParameters(t *testing.T) {
	t.Parallel()
	salt := []byte("0123456789abcdef")
	for _, p := range []params{
		cheap,
		{memory: 19 * 1024, passes: 2, lanes: 1, keyLen: 32}, // OWASP's minimum
		{memory: 64 * 1024, passes: 3, lanes: 2, keyLen: 16}, // shorter key
	} {
		h := hashWith(t, "old password 123", salt, p)
		ok, err := Verify("old password 123", h)
		if !ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v; want true, nil", h, ok, err)
		}
		if ok, err := Verify("new password 123", h); ok || err != nil {
			t.Errorf("Verify(wrong, %q) = %v, %v; want false, nil", h, ok, err)
		}
		if !NeedsRehash(h) {
			t.Errorf("NeedsRehash(%q) = false, want true", h)
		}
	}
	// Current parameters with an 8-byte salt: verifies, needs a rehash.
	h := hashWith(t, "old password 123", salt[:8], current())
	if ok, err := Verify("old password 123", h); !ok || err != nil || !NeedsRehash(h) {
		t.Errorf("8-byte salt: Verify = %v, %v, NeedsRehash = %v; want true, nil, true", ok, err, NeedsRehash(h))
	}
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	const pw = "password"
	good := "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	if ok, err := Verify(pw, good); !ok || err != nil {
		t.Fatalf("fixture does not verify: %v, %v", ok, err)
	}
	const salt, key = "c29tZXNhbHQ", "nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	with := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }

	for _, tc := range []struct {
		name, encoded, want string
	}{
		{"empty", "", "not an argon2id hash"},
		{"argon2i", strings.Replace(good, "argon2id", "argon2i", 1), "not an argon2id hash"},
		{"argon2d", strings.Replace(good, "argon2id", "argon2d", 1), "not an argon2id hash"},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "not an argon2id hash"},
		{"upper case", strings.Replace(good, "argon2id", "ARGON2ID", 1), "not an argon2id hash"},
		{"version 16", strings.Replace(good, "v=19", "v=16", 1), "not argon2 version 19"},
		{"version missing", strings.Replace(good, "v=19$", "", 1), "not argon2 version 19"},
		{"version 019", strings.Replace(good, "v=19", "v=019", 1), "not argon2 version 19"},
		{"leading space", " " + good, "not an argon2id hash"},
		{"trailing newline", good + "\n", "hash is not"},
		{"salt padded", strings.Replace(good, salt, salt+"=", 1), "salt is not"},
		{"salt bad char", strings.Replace(good, salt, "c29tZXNhbHQ!", 1), "salt is not"},
		{"salt url alphabet", strings.Replace(good, salt, "c29tZX-hbHQ", 1), "salt is not"},
		{"salt non-canonical", strings.Replace(good, salt, "c29tZXNhbHR", 1), "salt is not"},
		{"salt 7 bytes", strings.Replace(good, salt, "c29tZXNhbA", 1), "salt is not"},
		{"salt 65 bytes", strings.Replace(good, salt, strings.Repeat("A", 87), 1), "salt is not"},
		{"salt line break", strings.Replace(good, salt, "c29tZX\nNhbHQ", 1), "salt is not"},
		{"hash bad char", strings.Replace(good, key, strings.Replace(key, "/", "_", 1), 1), "hash is not"},
		{"hash 15 bytes", strings.Replace(good, key, key[:20], 1), "hash is not"},
		{"hash empty", strings.TrimSuffix(good, key), "hash is not"},
		{"truncated in hash", good[:len(good)-1], "hash is not"},
		{"truncated after salt", good[:strings.LastIndex(good, "$")], "got 2 fields"},
		{"truncated in params", good[:20], "got 1 fields"},
		{"extra field", good + "$AAAA", "got 4 fields"},
		{"keyid field", with("m=256,t=2,p=1,keyid=AAAA"), "parameters are not"},
		{"params reordered", with("t=2,m=256,p=1"), "parameters are not"},
		{"params missing", with("m=256,t=2"), "parameters are not"},
		{"params spaces", with("m=256, t=2, p=1"), "parameters are not"},
		{"params sign", with("m=+256,t=2,p=1"), "parameters are not"},
		{"params negative", with("m=256,t=-2,p=1"), "parameters are not"},
		{"params leading zero", with("m=0256,t=2,p=1"), "parameters are not"},
		{"params hex", with("m=0x100,t=2,p=1"), "parameters are not"},
		{"params overflow", with("m=4294967296,t=2,p=1"), "parameters are not"},
		{"params very long", with("m=" + strings.Repeat("9", 60) + ",t=2,p=1"), "parameters are not"},
		{"m max uint32", with("m=4294967295,t=2,p=1"), "m=4294967295 out of 8..1048576"},
		{"m over 1 GiB", with("m=1048577,t=1,p=1"), "m=1048577 out of 8..1048576"},
		{"m under 8p", with("m=31,t=2,p=4"), "m=31 out of 32..1048576"},
		{"m zero", with("m=0,t=2,p=1"), "m=0 out of 8..1048576"},
		{"t zero", with("m=256,t=0,p=1"), "t=0 out of 1..10"},
		{"t 11", with("m=256,t=11,p=1"), "t=11 out of 1..10"},
		{"t max uint32", with("m=256,t=4294967295,p=1"), "t=4294967295 out of 1..10"},
		{"p zero", with("m=256,t=2,p=0"), "p=0 out of 1..16"},
		{"p 17", with("m=256,t=2,p=17"), "p=17 out of 1..16"},
		{"p 256 (wraps uint8)", with("m=4096,t=2,p=256"), "p=256 out of 1..16"},
		{"too long", good + strings.Repeat("A", 300), "more than 256"},
	} {
		start := time.Now()
		ok, err := Verify(pw, tc.encoded)
		if ok || !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Verify(%q) = %v, %v; want false and ErrMalformed with %q", tc.name, tc.encoded, ok, err, tc.want)
		}
		// Rejected before argon2 runs, not after a long computation.
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("%s: rejecting took %v", tc.name, d)
		}
		if !NeedsRehash(tc.encoded) {
			t.Errorf("%s: NeedsRehash = false, want true", tc.name)
		}
	}
}

func TestBoundsAreAccepted(t *testing.T) {
	t.Parallel()
	// The edges of the accepted ranges verify (cheaply: no 1 GiB here).
	for _, p := range []params{
		{memory: 8, passes: 1, lanes: 1, keyLen: 16},
		{memory: 128, passes: 10, lanes: 16, keyLen: 64},
	} {
		for _, salt := range [][]byte{make([]byte, 8), make([]byte, 64)} {
			h := hashWith(t, "edge case password", salt, p)
			if ok, err := Verify("edge case password", h); !ok || err != nil {
				t.Errorf("Verify(%q) = %v, %v; want true, nil", h, ok, err)
			}
		}
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	salt := make([]byte, saltLen)
	cur := current()
	for _, tc := range []struct {
		name    string
		encoded string
		want    bool
	}{
		{"current", hashWith(t, "pw", salt, cur), false},
		{"less memory", hashWith(t, "pw", salt, params{memory: 32 * 1024, passes: passes, lanes: lanes, keyLen: keyLen}), true},
		{"more passes", hashWith(t, "pw", salt, params{memory: 64, passes: passes + 1, lanes: lanes, keyLen: keyLen}), true},
		{"fewer lanes", hashWith(t, "pw", salt, params{memory: 64, passes: passes, lanes: 1, keyLen: keyLen}), true},
		{"short key", hashWith(t, "pw", salt, params{memory: memoryKiB, passes: passes, lanes: lanes, keyLen: 16}), true},
		{"short salt", hashWith(t, "pw", salt[:8], cur), true},
		{"malformed", "$argon2id$v=19$m=65536,t=3,p=2$", true},
		{"empty", "", true},
	} {
		if got := NeedsRehash(tc.encoded); got != tc.want {
			t.Errorf("%s: NeedsRehash(%q) = %v, want %v", tc.name, tc.encoded, got, tc.want)
		}
	}
}

func TestHashTooLong(t *testing.T) {
	t.Parallel()
	if h, err := Hash(strings.Repeat("x", MaxLength+1)); h != "" || !errors.Is(err, ErrTooLong) {
		t.Errorf("Hash(too long) = %q, %v; want \"\", ErrTooLong", h, err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, password string
		want           error
	}{
		{"empty", "", ErrBlank},
		{"spaces", strings.Repeat(" ", 12), ErrBlank},
		{"mixed whitespace", " \t\n\r\v\f\u00a0\u2003\u3000  ", ErrBlank},
		{"9 bytes", "123456789", ErrTooShort},
		{"short with spaces", " abc def ", ErrTooShort},
		{"10 bytes", "1234567890", nil},
		{"4 runes, 12 bytes", "日本語!!!", nil},
		{"spaces inside", "  a b c d e  ", nil},
		{"1024 bytes", strings.Repeat("a", 1024), nil},
		{"1025 bytes", strings.Repeat("a", 1025), ErrTooLong},
		{"1025 spaces", strings.Repeat(" ", 1025), ErrBlank},
		{"passphrase", "correct horse battery staple", nil},
	} {
		if err := Validate(tc.password); err != tc.want {
			t.Errorf("%s: Validate = %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, err := range []error{ErrTooShort, ErrTooLong, ErrBlank} {
		if msg := err.Error(); !strings.HasPrefix(msg, "password ") || strings.Contains(msg, "%") {
			t.Errorf("message %q: want a sentence about the password", msg)
		}
	}
}

// FuzzVerify feeds hostile encoded strings to Verify against a fixed
// password. Invariants:
//   - no panic, and no work beyond the bounds (the parameters are checked
//     before argon2 runs);
//   - Verify fails with ErrMalformed exactly when decode fails, and then
//     NeedsRehash is true;
//   - an accepted string is canonical: it re-encodes to itself, so a hash
//     has one spelling;
//   - Verify is true only for the real hashes of the password in the seed
//     corpus: no mutation of a hash (parameters, salt, tag, spelling) still
//     verifies.
func FuzzVerify(f *testing.F) {
	const pw = "fuzzing password"
	realHashes := map[string]bool{}
	for i, p := range []params{
		cheap,
		{memory: 16, passes: 2, lanes: 2, keyLen: 16},
		{memory: 8, passes: 1, lanes: 1, keyLen: 64},
	} {
		salt := []byte("fuzz salt " + strings.Repeat("s", i))
		h := hashWith(f, pw, salt, p)
		realHashes[h] = true
		f.Add(h)
	}
	for _, s := range []string{
		"",
		"$argon2id$v=19$m=65536,t=3,p=2$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"$argon2id$v=19$m=64,t=1,p=1$$",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, encoded string) {
		p, salt, key, err := decode(encoded)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode error %v does not wrap ErrMalformed", err)
			}
			if ok, verr := Verify(pw, encoded); ok || verr == nil || verr.Error() != err.Error() {
				t.Fatalf("Verify = %v, %v; decode said %v", ok, verr, err)
			}
			if !NeedsRehash(encoded) {
				t.Fatal("NeedsRehash(malformed) = false")
			}
			return
		}
		if p.memory > maxMemoryKiB || p.passes < 1 || p.passes > maxPasses || p.lanes < 1 || p.lanes > maxLanes ||
			uint32(p.lanes)*8 > p.memory || len(salt) < minSaltLen || len(salt) > maxSaltLen ||
			len(key) < minKeyLen || len(key) > maxKeyLen || p.saltLen != len(salt) || p.keyLen != len(key) {
			t.Fatalf("decode accepted out-of-bounds %+v, salt %d, key %d bytes", p, len(salt), len(key))
		}
		if again := encode(p, salt, key); again != encoded {
			t.Fatalf("not canonical: %q re-encodes to %q", encoded, again)
		}
		// Valid but costly parameters (up to 1 GiB x 10 passes) are
		// legitimate: the unit tests cover them; here they would only slow
		// the fuzzer down.
		if uint64(p.memory)*uint64(p.passes) > 4096 {
			return
		}
		ok, err := Verify(pw, encoded)
		if err != nil {
			t.Fatalf("Verify: %v after decode succeeded", err)
		}
		if ok != realHashes[encoded] {
			t.Fatalf("Verify(%q) = %v; it is a real hash of the password: %v", encoded, ok, realHashes[encoded])
		}
	})
}

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := Verify("correct horse battery staple", h); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkVerifyMalformed is the cost of refusing a hostile hash.
func BenchmarkVerifyMalformed(b *testing.B) {
	const h = "$argon2id$v=19$m=4294967295,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify("password", h); err == nil {
			b.Fatal("accepted")
		}
	}
}
