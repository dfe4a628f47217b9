package abuse

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// testMaster is 0x00..0x1f: fixed, so the golden values below are stable.
func testMaster() []byte {
	m := make([]byte, 32)
	for i := range m {
		m[i] = byte(i)
	}
	return m
}

func newTestKeyring(t testing.TB, master []byte) *Keyring {
	t.Helper()
	k, err := NewKeyring(master)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return k
}

func TestNewKeyringRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		master []byte
		want   string
	}{
		{"nil", nil, "0 bytes, need at least 32"},
		{"31 bytes", testMaster()[:31], "31 bytes, need at least 32"},
		{"zeros", make([]byte, 32), "one byte repeated"},
		{"repeated", bytes.Repeat([]byte{0xaa}, 64), "one byte repeated"},
	} {
		k, err := NewKeyring(tc.master)
		if k != nil || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: NewKeyring = %v, %v; want nil and an error containing %q", tc.name, k, err, tc.want)
		}
	}
}

func TestKeyringDeterministic(t *testing.T) {
	t.Parallel()
	// Two keyrings, as on two nodes, from separate copies of the master.
	a, b := newTestKeyring(t, testMaster()), newTestKeyring(t, testMaster())
	site := [16]byte{1, 2, 3}
	for _, day := range []int64{0, 1, 20000, 20001, -1} {
		if x, y := a.TokenKey(day), b.TokenKey(day); !bytes.Equal(x, y) {
			t.Errorf("TokenKey(%d) differs between keyrings: %x, %x", day, x, y)
		}
		if x, y := a.IPPrefixKey(day), b.IPPrefixKey(day); !bytes.Equal(x, y) {
			t.Errorf("IPPrefixKey(%d) differs between keyrings: %x, %x", day, x, y)
		}
		if x, y := a.VisitorSalt(day), b.VisitorSalt(day); !bytes.Equal(x, y) {
			t.Errorf("VisitorSalt(%d) differs between keyrings: %x, %x", day, x, y)
		}
		// A cache hit returns what the miss derived.
		if x, y := a.TokenKey(day), b.TokenKey(day); !bytes.Equal(x, y) {
			t.Errorf("TokenKey(%d) (cached) differs between keyrings: %x, %x", day, x, y)
		}
	}
	if x, y := a.SiteSecret(site, 7), b.SiteSecret(site, 7); x != y {
		t.Errorf("SiteSecret differs between keyrings: %s, %s", x, y)
	}
}

// TestKeyringGolden pins the derivation. Changing it would invalidate every
// site secret key clients hold and every live token, so these values must
// only change with a deliberate, documented migration. They are checked
// against the standard library's independent HKDF too.
func TestKeyringGolden(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	site := [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}

	stdlib := func(label string, ctx []byte) []byte {
		info := append([]byte("verity/v1\x00"+label+"\x00"), ctx...)
		key, err := hkdf.Key(sha256.New, testMaster(), []byte("verity keyring v1"), string(info), 32)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	be64 := func(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }
	siteCtx := binary.BigEndian.AppendUint32(append([]byte(nil), site[:]...), 3)

	for _, tc := range []struct {
		name   string
		got    []byte
		stdlib []byte
		golden string
	}{
		{"TokenKey(20000)", k.TokenKey(20000), stdlib("page-load token hmac", be64(20000)), "e31b146d6575859581bb6e494f690035afa8f137dd2c6fae8d11cab1566ba520"},
		{"IPPrefixKey(20000)", k.IPPrefixKey(20000), stdlib("ip prefix hmac", be64(20000)), "53832e006c909de8263af5885a4acdf25b4ec6da4a5e9f26f0ba32c9eea2f137"},
		{"VisitorSalt(20000)", k.VisitorSalt(20000), stdlib("visitor salt", be64(20000)), "dace5f7e5f71b086a3a8d1241d7afe4e23fc52067838c1b3ba277cc5b0401d29"},
	} {
		if !bytes.Equal(tc.got, tc.stdlib) {
			t.Errorf("%s = %x; crypto/hkdf gives %x", tc.name, tc.got, tc.stdlib)
		}
		if hex.EncodeToString(tc.got) != tc.golden {
			t.Errorf("%s = %x; golden %s", tc.name, tc.got, tc.golden)
		}
	}

	secret := k.SiteSecret(site, 3)
	if want := "sk_" + base64.RawURLEncoding.EncodeToString(stdlib("site secret key", siteCtx)); secret != want {
		t.Errorf("SiteSecret = %s; crypto/hkdf gives %s", secret, want)
	}
	if golden := "sk_gpgs80-tfzLlnOi23L0HjJ8fcPVLYqjP62KbUhLdu8E"; secret != golden {
		t.Errorf("SiteSecret = %s; golden %s", secret, golden)
	}
	if got, golden := SecretHash(secret), "5f778a4495ade7f6ad84a48cca186c918cfff2c28b5eb6547718d7c4dfcc6b9b"; got != golden {
		t.Errorf("SecretHash(SiteSecret) = %s; golden %s", got, golden)
	}
}

func TestKeyringSeparation(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	other := testMaster()
	other[31] ^= 1
	k2 := newTestKeyring(t, other)

	seen := map[string]string{} // key material -> what produced it
	add := func(what string, key []byte) {
		t.Helper()
		if len(key) != KeyLen {
			t.Errorf("%s: %d bytes, want %d", what, len(key), KeyLen)
		}
		if prev, dup := seen[string(key)]; dup {
			t.Errorf("%s = %s", what, prev)
		}
		seen[string(key)] = what
	}
	for _, ring := range []struct {
		name string
		k    *Keyring
	}{{"master", k}, {"other master", k2}} {
		for day := int64(19990); day < 20010; day++ {
			add(fmt.Sprintf("%s TokenKey(%d)", ring.name, day), ring.k.TokenKey(day))
			add(fmt.Sprintf("%s IPPrefixKey(%d)", ring.name, day), ring.k.IPPrefixKey(day))
			add(fmt.Sprintf("%s VisitorSalt(%d)", ring.name, day), ring.k.VisitorSalt(day))
		}
		for _, site := range [][16]byte{{}, {1}, {15: 1}, {0xff, 0xff}} {
			for _, version := range []uint32{0, 1, 2, 1 << 31} {
				s := ring.k.SiteSecret(site, version)
				raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, SecretKeyPrefix))
				if err != nil {
					t.Fatalf("SiteSecret %q: %v", s, err)
				}
				add(fmt.Sprintf("%s SiteSecret(%x, %d)", ring.name, site, version), raw)
			}
		}
	}
	if want := 2 * (20*3 + 4*4); len(seen) != want {
		t.Errorf("%d distinct keys, want %d", len(seen), want)
	}
}

func TestKeyIDAndTokenDay(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	for _, tc := range []struct {
		day  int64
		want uint8
	}{{0, 0}, {1, 1}, {255, 255}, {256, 0}, {257, 1}, {511, 255}, {512, 0}, {20000, 32}, {-1, 255}, {-256, 0}} {
		if got := k.KeyID(tc.day); got != tc.want {
			t.Errorf("KeyID(%d) = %d, want %d", tc.day, got, tc.want)
		}
	}

	for _, tc := range []struct {
		today  int64
		id     uint8
		day    int64
		wantOK bool
	}{
		{20000, 32, 20000, true}, // today
		{20000, 31, 19999, true}, // yesterday
		{20000, 30, 0, false},    // two days ago
		{20000, 33, 0, false},    // tomorrow
		{20000, 32 + 128, 0, false},
		{256, 0, 256, true},   // today wraps to 0
		{256, 255, 255, true}, // yesterday is 255
		{257, 0, 256, true},   // yesterday wrapped
		{257, 255, 0, false},  // two days ago
	} {
		day, ok := k.TokenDay(tc.today, tc.id)
		if day != tc.day || ok != tc.wantOK {
			t.Errorf("TokenDay(%d, %d) = %d, %v; want %d, %v", tc.today, tc.id, day, ok, tc.day, tc.wantOK)
		}
	}
}

func TestDay(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(86399, 999999999), 0},
		{time.Unix(86400, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Unix(-86400, 0), -1},
		{time.Unix(-86401, 0), -2},
		{time.Date(2024, 10, 4, 23, 59, 59, 0, time.UTC), 20000},
		{time.Date(2024, 10, 5, 0, 0, 0, 0, time.UTC), 20001},
		// Midnight UTC, whatever the location of the time.Time.
		{time.Date(2024, 10, 5, 1, 30, 0, 0, time.FixedZone("CEST", 2*3600)), 20000},
	} {
		if got := Day(tc.t); got != tc.want {
			t.Errorf("Day(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
}

func TestSiteSecret(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	re := regexp.MustCompile(`^sk_[A-Za-z0-9_-]{43}$`)
	site := [16]byte{9, 8, 7}
	s := k.SiteSecret(site, 1)
	if !re.MatchString(s) {
		t.Errorf("SiteSecret = %q, want it to match %s", s, re)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s[len(SecretKeyPrefix):])
	if err != nil || len(raw) != KeyLen {
		t.Errorf("SiteSecret body decodes to %d bytes, %v; want %d bytes", len(raw), err, KeyLen)
	}

	h := SecretHash(s)
	if sum := sha256.Sum256([]byte(s)); h != hex.EncodeToString(sum[:]) {
		t.Errorf("SecretHash = %s, want the hex SHA-256 %x", h, sum)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(h) {
		t.Errorf("SecretHash = %q, want 64 lowercase hex digits", h)
	}
	// Re-derived later (or on another node), the secret has the same hash:
	// this is how a stored hash is checked against the key a client holds.
	if again := SecretHash(newTestKeyring(t, testMaster()).SiteSecret(site, 1)); again != h {
		t.Errorf("SecretHash of the re-derived secret = %s, want %s", again, h)
	}
	if rotated := SecretHash(k.SiteSecret(site, 2)); rotated == h {
		t.Errorf("rotating the version kept the hash %s", h)
	}
}

func TestParseMaster(t *testing.T) {
	t.Parallel()
	key := testMaster()
	key[0] = 0xfb // makes "+/" and "-_" appear in base64
	key[1] = 0xff
	hexKey := hex.EncodeToString(key)
	long := append(bytes.Clone(key), 1, 2, 3, 4, 5, 6, 7, 8)
	for _, tc := range []struct {
		name    string
		in      string
		want    []byte // nil: an error is wanted
		wantErr string
	}{
		{"hex", hexKey, key, ""},
		{"hex upper case", strings.ToUpper(hexKey), key, ""},
		{"hex with newline", hexKey + "\n", key, ""},
		{"hex with spaces", "  " + hexKey + " \t", key, ""},
		{"hex 40 bytes", hex.EncodeToString(long), long, ""},
		{"base64 std", base64.StdEncoding.EncodeToString(key), key, ""},
		{"base64 std raw", base64.RawStdEncoding.EncodeToString(key), key, ""},
		{"base64url", base64.URLEncoding.EncodeToString(key), key, ""},
		{"base64url raw", base64.RawURLEncoding.EncodeToString(key), key, ""},
		{"base64 40 bytes", base64.StdEncoding.EncodeToString(long), long, ""},
		{"empty", "", nil, "empty"},
		{"whitespace", " \n\t ", nil, "empty"},
		{"hex too short", hexKey[:62], nil, "too short: 31 bytes"},
		{"hex 16 bytes", hexKey[:32], nil, "too short: 16 bytes"},
		{"hex odd", hexKey + "a", nil, "odd number of digits"},
		{"base64 too short", base64.StdEncoding.EncodeToString(key[:31]), nil, "too short: 31 bytes"},
		{"base64url too short", base64.RawURLEncoding.EncodeToString(key[:24]), nil, "too short: 24 bytes"},
		{"base64 bad padding", base64.RawStdEncoding.EncodeToString(key) + "==", nil, "neither hex nor base64"},
		{"mixed alphabets", "+_" + base64.RawStdEncoding.EncodeToString(key)[2:], nil, "neither hex nor base64"},
		{"passphrase", "correct horse battery staple, repeated twice over!", nil, "neither hex nor base64"},
		{"non-ASCII", "sécret-" + hexKey, nil, "neither hex nor base64"},
		{"hex with 0x", "0x" + hexKey, key, ""},
		{"hex with 0X", "0X" + strings.ToUpper(hexKey), key, ""},
		{"0x and not hex", "0x" + hexKey[:60] + "g!", nil, "neither hex nor base64"},
		{"0x too short", "0x" + hexKey[:62], nil, "too short: 31 bytes"},
	} {
		got, err := ParseMaster(tc.in)
		switch {
		case tc.want != nil && (err != nil || !bytes.Equal(got, tc.want)):
			t.Errorf("%s: ParseMaster = %x, %v; want %x", tc.name, got, err, tc.want)
		case tc.want == nil && (got != nil || err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: ParseMaster = %x, %v; want nil and an error containing %q", tc.name, got, err, tc.wantErr)
		case err != nil:
			// No part of the secret leaks into the message: no run of 6 of
			// its characters (the messages' own words are longer than any
			// run a random secret shares with them by chance here).
			msg, in := err.Error(), strings.TrimSpace(tc.in)
			for i := 0; i+6 <= len(in); i++ {
				if strings.Contains(msg, in[i:i+6]) {
					t.Errorf("%s: error %q contains %q from the input", tc.name, msg, in[i:i+6])
					break
				}
			}
		}
	}
}

func TestGenerateMaster(t *testing.T) {
	t.Parallel()
	a, err := GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	b, err := GenerateMaster()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(a) || a == b {
		t.Errorf("GenerateMaster = %q, %q; want two different 64-digit hex strings", a, b)
	}
	m, err := ParseMaster(a)
	if err != nil || len(m) != 32 || hex.EncodeToString(m) != a {
		t.Errorf("ParseMaster(GenerateMaster()) = %x, %v; want the 32 bytes back", m, err)
	}
	if _, err := NewKeyring(m); err != nil {
		t.Errorf("NewKeyring(generated) = %v", err)
	}
}

func TestNewPublicKey(t *testing.T) {
	t.Parallel()
	re := regexp.MustCompile(`^pk_[a-z2-7]{26}$`)
	seen := map[string]bool{}
	for range 1000 {
		pk, err := NewPublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if !re.MatchString(pk) {
			t.Fatalf("NewPublicKey = %q, want it to match %s", pk, re)
		}
		if seen[pk] {
			t.Fatalf("NewPublicKey returned %q twice", pk)
		}
		seen[pk] = true
	}
}

func TestKeyringCache(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	const today = 20000

	// A long-running node: many days go by, the cache stays small.
	for day := int64(today - 100); day <= today; day++ {
		k.TokenKey(day)
		k.IPPrefixKey(day)
		k.VisitorSalt(day)
	}
	if n := len(k.cache); n != maxCached {
		t.Errorf("after 101 days, %d cached keys, want %d", n, maxCached)
	}
	for c := range k.cache {
		if c.day < today-cacheDays+1 {
			t.Errorf("day %d still cached on day %d", c.day, today)
		}
	}

	// Looking up an old day does not evict today's and yesterday's keys.
	k.TokenKey(today - 50)
	for _, ck := range []cacheKey{{today, int64(purposeToken)}, {today - 1, int64(purposeToken)}, {today, int64(purposeIPPrefix)}, {today, int64(purposeVisitorSalt)}} {
		if _, ok := k.cache[ck]; !ok {
			t.Errorf("%+v evicted by a lookup of an old day", ck)
		}
	}
	if _, ok := k.cache[cacheKey{today - 50, int64(purposeToken)}]; ok {
		t.Errorf("an old day was cached over recent ones")
	}

	// The uncached result is still right.
	if got, want := k.TokenKey(today-50), newTestKeyring(t, testMaster()).TokenKey(today-50); !bytes.Equal(got, want) {
		t.Errorf("uncached TokenKey = %x, want %x", got, want)
	}
}

func TestTokenKeyHitDoesNotAllocate(t *testing.T) {
	k := newTestKeyring(t, testMaster())
	k.TokenKey(20000)
	if n := testing.AllocsPerRun(1000, func() { k.TokenKey(20000) }); n != 0 {
		t.Errorf("TokenKey cache hit: %v allocations, want 0", n)
	}
}

// TestKeyringConcurrent is for the race detector.
func TestKeyringConcurrent(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	want := newTestKeyring(t, testMaster()).TokenKey(20000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				day := int64(20000 - (i+g)%10)
				k.IPPrefixKey(day)
				k.VisitorSalt(day)
				if got := k.TokenKey(20000); !bytes.Equal(got, want) {
					t.Errorf("TokenKey = %x, want %x", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestKeyringRedacted(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	k.TokenKey(1)
	prk := hex.EncodeToString(k.prk)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(verb, k)
		if out == "" || strings.Contains(out, prk) || strings.Contains(out, "prk") || strings.Contains(out, "cache") {
			t.Errorf("Sprintf(%q, keyring) = %q reveals key material", verb, out)
		}
	}
}

// BenchmarkTokenKey measures the hot path: a cache hit, which must not
// allocate.
func BenchmarkTokenKey(b *testing.B) {
	k := newTestKeyring(b, testMaster())
	k.TokenKey(20000)
	b.ReportAllocs()
	for b.Loop() {
		k.TokenKey(20000)
	}
}

// BenchmarkTokenKeyParallel is the hit path under contention for the mutex.
func BenchmarkTokenKeyParallel(b *testing.B) {
	k := newTestKeyring(b, testMaster())
	k.TokenKey(20000)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k.TokenKey(20000)
		}
	})
}

// BenchmarkSiteSecret is the uncached derivation done for every signed
// server-to-server request.
func BenchmarkSiteSecret(b *testing.B) {
	k := newTestKeyring(b, testMaster())
	b.ReportAllocs()
	for b.Loop() {
		k.SiteSecret([16]byte{1}, 1)
	}
}
