package abuse

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a clock the test sets by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// seqReader is a deterministic Rand: it reads the bytes 0, 1, 2, … 255, 0, …
type seqReader struct{ next byte }

func (r *seqReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.next
		r.next++
	}
	return len(p), nil
}

// failingReader is a Rand that fails.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

// tokenT0 is noon on day 20000 (2024-10-04 UTC), whose key id is 32.
func tokenT0() time.Time { return time.Date(2024, 10, 4, 12, 0, 0, 0, time.UTC) }

const (
	testUA     = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36"
	testOrigin = "https://www.example.com"
)

var testSiteID = [16]byte{0x51, 0x7e, 0x1d, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c}

func testIssueRequest() IssueRequest {
	return IssueRequest{
		SiteID:    testSiteID,
		ClientIP:  netip.MustParseAddr("203.0.113.7"),
		UserAgent: testUA,
		Origin:    testOrigin,
		Tier:      TierNormal,
	}
}

// verifyRequestFor is the request that carries token from the client that
// asked for it with r, with the solution n.
func verifyRequestFor(token string, r IssueRequest, n uint32) VerifyRequest {
	return VerifyRequest{Token: token, SiteID: r.SiteID, ClientIP: r.ClientIP, UserAgent: r.UserAgent, Origin: r.Origin, PowN: n}
}

func newTestIssuer(t testing.TB, cfg TokenConfig, now func() time.Time) *Issuer {
	t.Helper()
	return NewIssuer(newTestKeyring(t, testMaster()), cfg, now)
}

func mustIssue(t testing.TB, i *Issuer, r IssueRequest) (string, Claims) {
	t.Helper()
	tok, c, err := i.Issue(r)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return tok, c
}

func mustSolve(t testing.TB, c Claims) uint32 {
	t.Helper()
	n, ok := SolvePoW(c)
	if !ok {
		t.Fatalf("SolvePoW(%+v): no solution", c)
	}
	return n
}

// The ref* helpers compute what the token layout promises with the standard
// library directly, independently of token.go.

func refPrefixHash(k *Keyring, day int64, prefix ...byte) [8]byte {
	m := hmac.New(sha256.New, k.IPPrefixKey(day))
	m.Write(prefix)
	return [8]byte(m.Sum(nil))
}

func refStringHash(label, s string) [8]byte {
	sum := sha256.Sum256([]byte(label + s))
	return [8]byte(sum[:8])
}

func refTarget(plid [16]byte, n uint32) [16]byte {
	sum := sha256.Sum256(binary.LittleEndian.AppendUint32(plid[:], n))
	return [16]byte(sum[:16])
}

// resign MACs raw (TokenLen bytes, altered by the test) with key and
// encodes it: a token the issuer could have made with that key.
func resign(raw []byte, key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(raw[:89])
	copy(raw[89:], m.Sum(nil)[:16])
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeTestToken(t testing.TB, tok string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != TokenLen {
		t.Fatalf("token %q: %d bytes, %v", tok, len(raw), err)
	}
	return raw
}

// TestTokenLayout checks every byte of an issued token against the layout
// documented in token.go, computed independently, and pins a golden token.
func TestTokenLayout(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	i := NewIssuer(k, TokenConfig{Rand: &seqReader{}}, newTestClock(tokenT0()).Now)
	req := testIssueRequest()
	tok, _ := mustIssue(t, i, req)

	if len(tok) != 140 || EncodedTokenLen != 140 || TokenLen != 105 {
		t.Fatalf("token is %d characters (EncodedTokenLen %d, TokenLen %d), want 140 and 105", len(tok), EncodedTokenLen, TokenLen)
	}
	raw := decodeTestToken(t, tok)
	var plid [16]byte
	for j := range plid {
		plid[j] = byte(j) // seqReader's first 16 bytes
	}
	secret := uint32(binary.LittleEndian.Uint64([]byte{16, 17, 18, 19, 20, 21, 22, 23}) % 2001)
	ipHash := refPrefixHash(k, 20000, 4, 203, 0, 113)
	uaHash, originHash := refStringHash("verity/ua/v1\x00", testUA), refStringHash("verity/origin/v1\x00", testOrigin)
	target := refTarget(plid, secret)
	mac := hmac.New(sha256.New, k.TokenKey(20000))
	mac.Write(raw[:89])

	for _, f := range []struct {
		name     string
		off, len int
		want     []byte
	}{
		{"version", 0, 1, []byte{1}},
		{"key id", 1, 1, []byte{32}},
		{"site id", 2, 16, testSiteID[:]},
		{"page-load id", 18, 16, plid[:]},
		{"issued at", 34, 8, binary.LittleEndian.AppendUint64(nil, uint64(tokenT0().Unix()))},
		{"ttl", 42, 2, binary.LittleEndian.AppendUint16(nil, 1800)},
		{"tier", 44, 1, []byte{0}},
		{"pow max", 45, 4, binary.LittleEndian.AppendUint32(nil, 2000)},
		{"pow target", 49, 16, target[:]},
		{"ip prefix hash", 65, 8, ipHash[:]},
		{"ua hash", 73, 8, uaHash[:]},
		{"origin hash", 81, 8, originHash[:]},
		{"mac", 89, 16, mac.Sum(nil)[:16]},
	} {
		if got := raw[f.off : f.off+f.len]; !bytes.Equal(got, f.want) {
			t.Errorf("%s (bytes %d–%d) = %x, want %x", f.name, f.off, f.off+f.len-1, got, f.want)
		}
	}
	const golden = "ASBRfh0AAQIDBAUGBwgJCgsMAAECAwQFBgcICQoLDA0OD8DY_2YAAAAACAcA0AcAAHpk80oqmrdvqE-VIqJ20FwByJaE9mi2LV7ZhYJ_Yw5ySLwN5hJpiK0rKZghtNl55ay7t9_tSidT"
	if tok != golden {
		t.Errorf("token = %s\ngolden  %s\n(a layout, label or key change: tokens in flight become invalid)", tok, golden)
	}
}

// TestIssueVerifyRoundTrip issues tokens for every tier and several clients,
// and checks every claim, computed independently, in what Issue returns and
// in what Verify accepts.
func TestIssueVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	var plid [16]byte
	for j := range plid {
		plid[j] = byte(j)
	}
	draw := binary.LittleEndian.Uint64([]byte{16, 17, 18, 19, 20, 21, 22, 23}) // seqReader's PoW draw

	for _, tc := range []struct {
		name       string
		cfg        TokenConfig
		mutate     func(*IssueRequest)
		prefix     []byte // the hashed IP prefix
		wantTTL    time.Duration
		wantPowMax uint32
	}{
		{"normal", TokenConfig{}, func(*IssueRequest) {}, []byte{4, 203, 0, 113}, 30 * time.Minute, 2000},
		{"elevated", TokenConfig{}, func(r *IssueRequest) { r.Tier = TierElevated }, []byte{4, 203, 0, 113}, 30 * time.Minute, 20000},
		{"high", TokenConfig{}, func(r *IssueRequest) { r.Tier = TierHigh }, []byte{4, 203, 0, 113}, 30 * time.Minute, 200000},
		{"declared bot", TokenConfig{}, func(r *IssueRequest) { r.Tier = TierDeclaredBot }, []byte{4, 203, 0, 113}, 30 * time.Minute, 0},
		{"configured", TokenConfig{TTL: 90 * time.Second, PowMaxNormal: 5, PowMaxElevated: 6, PowMaxHigh: 7}, func(r *IssueRequest) { r.Tier = TierHigh }, []byte{4, 203, 0, 113}, 90 * time.Second, 7},
		{"max ttl", TokenConfig{TTL: MaxTokenTTL}, func(*IssueRequest) {}, []byte{4, 203, 0, 113}, 65535 * time.Second, 2000},
		{"ipv4-mapped", TokenConfig{}, func(r *IssueRequest) { r.ClientIP = netip.MustParseAddr("::ffff:198.51.100.200") }, []byte{4, 198, 51, 100}, 30 * time.Minute, 2000},
		{"ipv6", TokenConfig{}, func(r *IssueRequest) { r.ClientIP = netip.MustParseAddr("2001:db8:abcd:12::1") }, []byte{6, 0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd}, 30 * time.Minute, 2000},
		{"no ip, ua or origin", TokenConfig{}, func(r *IssueRequest) { r.ClientIP, r.UserAgent, r.Origin = netip.Addr{}, "", "" }, []byte{0}, 30 * time.Minute, 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Rand = &seqReader{}
			i := NewIssuer(k, cfg, newTestClock(tokenT0().Add(999*time.Millisecond)).Now)
			req := testIssueRequest()
			tc.mutate(&req)

			want := Claims{
				SiteID:       testSiteID,
				PageLoadID:   plid,
				IssuedAt:     tokenT0(), // whole seconds
				TTL:          tc.wantTTL,
				Tier:         req.Tier,
				PowMax:       tc.wantPowMax,
				IPPrefixHash: refPrefixHash(k, 20000, tc.prefix...),
				UAHash:       refStringHash("verity/ua/v1\x00", req.UserAgent),
				OriginHash:   refStringHash("verity/origin/v1\x00", req.Origin),
				KeyID:        32,
			}
			var secret uint32
			if req.Tier != TierDeclaredBot {
				secret = uint32(draw % (uint64(tc.wantPowMax) + 1))
				want.PowTarget = refTarget(plid, secret)
			}

			tok, got := mustIssue(t, i, req)
			if got != want {
				t.Errorf("Issue claims:\n got %+v\nwant %+v", got, want)
			}
			if ph := i.PrefixHash(req.ClientIP); ph != want.IPPrefixHash {
				t.Errorf("PrefixHash = %x, want the token's %x", ph, want.IPPrefixHash)
			}
			if got.Expires() != tokenT0().Add(tc.wantTTL) {
				t.Errorf("Expires = %v, want %v", got.Expires(), tokenT0().Add(tc.wantTTL))
			}
			if n, ok := SolvePoW(got); n != secret || !ok {
				t.Errorf("SolvePoW = %d, %v; want %d, true", n, ok, secret)
			}
			v, err := i.Verify(verifyRequestFor(tok, req, secret))
			if err != nil || v != (Verified{Claims: want}) {
				t.Errorf("Verify = %+v, %v;\nwant %+v, nil", v, err, Verified{Claims: want})
			}
		})
	}
}

// TestVerify checks each rejection with one precise change to a valid
// request, and the changes that must be accepted.
func TestVerify(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	t0 := tokenT0()
	midnight := time.Date(2024, 10, 5, 0, 0, 0, 0, time.UTC) // day 20001 starts
	ipv6 := func(r *IssueRequest) { r.ClientIP = netip.MustParseAddr("2001:db8:abcd:12::1") }

	for _, tc := range []struct {
		name        string
		cfg         TokenConfig
		issueAt     time.Time
		verifyAt    time.Time
		issue       func(*IssueRequest)          // nil: unchanged
		verify      func(*VerifyRequest, Claims) // nil: unchanged
		want        error                        // nil: accepted
		wantChanged bool                         // IPPrefixChanged when accepted
	}{
		{name: "valid", issueAt: t0, verifyAt: t0},
		{name: "valid a second before expiry", issueAt: t0, verifyAt: t0.Add(30*time.Minute - time.Second)},
		{name: "expired at issue + TTL", issueAt: t0, verifyAt: t0.Add(30 * time.Minute), want: ErrTokenExpired},
		{name: "expired with a short TTL", cfg: TokenConfig{TTL: 5 * time.Second}, issueAt: t0, verifyAt: t0.Add(5 * time.Second), want: ErrTokenExpired},
		{name: "expired hours ago", issueAt: t0, verifyAt: t0.Add(5 * time.Hour), want: ErrTokenExpired},
		{name: "issued 30 s ahead (skew)", issueAt: t0.Add(30 * time.Second), verifyAt: t0},
		{name: "issued 31 s ahead", issueAt: t0.Add(31 * time.Second), verifyAt: t0, want: ErrTokenFromFuture},
		{name: "yesterday's key", issueAt: midnight.Add(-10 * time.Minute), verifyAt: midnight.Add(10 * time.Minute)},
		{name: "yesterday's key, expired", issueAt: midnight.Add(-10 * time.Minute), verifyAt: midnight.Add(20 * time.Minute), want: ErrTokenExpired},
		{name: "two-day-old key", cfg: TokenConfig{TTL: MaxTokenTTL}, issueAt: midnight.Add(-time.Second), verifyAt: midnight.Add(24 * time.Hour), want: ErrTokenKeyUnknown},
		{name: "tomorrow's key 20 s before midnight", issueAt: midnight.Add(10 * time.Second), verifyAt: midnight.Add(-20 * time.Second)},
		{name: "tomorrow's key 31 s before midnight", issueAt: midnight, verifyAt: midnight.Add(-31 * time.Second), want: ErrTokenKeyUnknown},
		{name: "wrong site", verify: func(r *VerifyRequest, _ Claims) { r.SiteID[15] ^= 1 }, want: ErrTokenWrongSite},
		{name: "other origin", verify: func(r *VerifyRequest, _ Claims) { r.Origin = "https://evil.example.com" }, want: ErrTokenOriginMismatch},
		{name: "origin in another case", verify: func(r *VerifyRequest, _ Claims) { r.Origin = "https://WWW.example.com" }, want: ErrTokenOriginMismatch},
		{name: "no origin", verify: func(r *VerifyRequest, _ Claims) { r.Origin = "" }, want: ErrTokenOriginMismatch},
		{name: "other UA", verify: func(r *VerifyRequest, _ Claims) { r.UserAgent = strings.Replace(testUA, "130", "131", 1) }, want: ErrTokenUAMismatch},
		{name: "origin checked before UA", verify: func(r *VerifyRequest, _ Claims) { r.UserAgent, r.Origin = "curl/8.0", "null" }, want: ErrTokenOriginMismatch},
		{name: "expiry checked before site", issueAt: t0, verifyAt: t0.Add(time.Hour), verify: func(r *VerifyRequest, _ Claims) { r.SiteID = [16]byte{} }, want: ErrTokenExpired},
		{name: "site checked before PoW", verify: func(r *VerifyRequest, _ Claims) { r.SiteID = [16]byte{}; r.PowN++ }, want: ErrTokenWrongSite},
		{name: "UA checked before PoW", verify: func(r *VerifyRequest, _ Claims) { r.UserAgent = ""; r.PowN++ }, want: ErrTokenUAMismatch},
		{name: "other /24", verify: func(r *VerifyRequest, _ Claims) { r.ClientIP = netip.MustParseAddr("203.0.114.7") }, wantChanged: true},
		{name: "same /24", verify: func(r *VerifyRequest, _ Claims) { r.ClientIP = netip.MustParseAddr("203.0.113.250") }},
		{name: "same address IPv4-mapped", verify: func(r *VerifyRequest, _ Claims) { r.ClientIP = netip.MustParseAddr("::ffff:203.0.113.7") }},
		{name: "IPv4 to IPv6", verify: func(r *VerifyRequest, _ Claims) { r.ClientIP = netip.MustParseAddr("2001:db8::1") }, wantChanged: true},
		{name: "no address", verify: func(r *VerifyRequest, _ Claims) { r.ClientIP = netip.Addr{} }, wantChanged: true},
		{name: "same /48", issue: ipv6, verify: func(r *VerifyRequest, _ Claims) { r.ClientIP = netip.MustParseAddr("2001:db8:abcd:ffff::2") }},
		{name: "other /48", issue: ipv6, verify: func(r *VerifyRequest, _ Claims) { r.ClientIP = netip.MustParseAddr("2001:db8:abce:12::1") }, wantChanged: true},
		{name: "prefix change on yesterday's key", issueAt: midnight.Add(-time.Minute), verifyAt: midnight.Add(time.Minute), verify: func(r *VerifyRequest, _ Claims) { r.ClientIP = netip.MustParseAddr("192.0.2.1") }, wantChanged: true},
		{name: "wrong n", verify: func(r *VerifyRequest, c Claims) { r.PowN = (r.PowN + 1) % (c.PowMax + 1) }, want: ErrPowInvalid},
		{name: "n = max + 1", verify: func(r *VerifyRequest, c Claims) { r.PowN = c.PowMax + 1 }, want: ErrPowInvalid},
		{name: "n = 2^32 - 1", verify: func(r *VerifyRequest, _ Claims) { r.PowN = math.MaxUint32 }, want: ErrPowInvalid},
		{name: "high tier, wrong n", issue: func(r *IssueRequest) { r.Tier = TierHigh }, verify: func(r *VerifyRequest, c Claims) { r.PowN = (r.PowN + 7) % (c.PowMax + 1) }, want: ErrPowInvalid},
		{name: "declared bot without PoW", issue: func(r *IssueRequest) { r.Tier = TierDeclaredBot }, verify: func(r *VerifyRequest, _ Claims) { r.PowN = 123456789 }},
		{name: "declared bot, other UA", issue: func(r *IssueRequest) { r.Tier = TierDeclaredBot }, verify: func(r *VerifyRequest, _ Claims) { r.UserAgent = "Googlebot/2.1" }, want: ErrTokenUAMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.issueAt.IsZero() {
				tc.issueAt, tc.verifyAt = t0, t0
			}
			clock := newTestClock(tc.issueAt)
			i := NewIssuer(k, tc.cfg, clock.Now)
			ireq := testIssueRequest()
			if tc.issue != nil {
				tc.issue(&ireq)
			}
			tok, c := mustIssue(t, i, ireq)
			vreq := verifyRequestFor(tok, ireq, mustSolve(t, c))
			if tc.verify != nil {
				tc.verify(&vreq, c)
			}
			clock.Set(tc.verifyAt)

			v, err := i.Verify(vreq)
			if tc.want != nil {
				if err != tc.want || v != (Verified{}) {
					t.Errorf("Verify = %+v, %v; want zero, %v", v, err, tc.want)
				}
				return
			}
			if want := (Verified{Claims: c, IPPrefixChanged: tc.wantChanged}); err != nil || v != want {
				t.Errorf("Verify = %+v, %v;\nwant %+v, nil", v, err, want)
			}
		})
	}
}

// TestVerifyMalformed covers tokens the issuer never made: wrong sizes and
// alphabets, and well-MACed tokens with fields it never writes.
func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	k := newTestKeyring(t, testMaster())
	i := NewIssuer(k, TokenConfig{}, newTestClock(tokenT0()).Now)
	req := testIssueRequest()
	tok, c := mustIssue(t, i, req)
	n := mustSolve(t, c)
	raw := decodeTestToken(t, tok)
	with := func(off int, b byte, key []byte) string {
		r := bytes.Clone(raw)
		r[off] = b
		if key == nil {
			return base64.RawURLEncoding.EncodeToString(r)
		}
		return resign(r, key)
	}
	today := k.TokenKey(20000)

	for _, tc := range []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrTokenMalformed},
		{"one short", tok[:139], ErrTokenMalformed},
		{"one long", tok + "A", ErrTokenMalformed},
		{"padded", tok + "==", ErrTokenMalformed},
		{"standard alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(tok), ErrTokenMalformed},
		{"space", " " + tok[1:], ErrTokenMalformed},
		{"newline", tok[:70] + "\n" + tok[71:], ErrTokenMalformed},
		{"non-ASCII", "é" + tok[2:], ErrTokenMalformed},
		{"version 0, re-MACed", with(0, 0, today), ErrTokenMalformed},
		{"version 2, re-MACed", with(0, 2, today), ErrTokenMalformed},
		{"tier 4, re-MACed", with(44, 4, today), ErrTokenMalformed},
		{"tier 255, re-MACed", with(44, 255, today), ErrTokenMalformed},
		{"two-day-old key id, re-MACed", with(1, 30, k.TokenKey(19998)), ErrTokenKeyUnknown},
		{"unknown key id", with(1, 200, nil), ErrTokenKeyUnknown},
		{"yesterday's key id, not re-MACed", with(1, 31, nil), ErrTokenBadMAC},
		{"yesterday's key id, today's key", with(1, 31, today), ErrTokenBadMAC},
		{"MAC with the IP-prefix key", with(1, 32, k.IPPrefixKey(20000)), ErrTokenBadMAC},
		{"MAC with another master", with(1, 32, newTestKeyring(t, bytes.Repeat([]byte{1, 2}, 16)).TokenKey(20000)), ErrTokenBadMAC},
		{"last MAC byte", with(104, raw[104]^0x80, nil), ErrTokenBadMAC},
		{"site changed", with(2, raw[2]^1, nil), ErrTokenBadMAC},
		{"issued-at changed", with(34, raw[34]+60, nil), ErrTokenBadMAC},
		{"TTL changed", with(43, raw[43]+1, nil), ErrTokenBadMAC},
		{"PoW max changed", with(48, 1, nil), ErrTokenBadMAC},
	} {
		if tc.name == "standard alphabet" && !strings.ContainsAny(tok, "-_") {
			t.Fatalf("the test token %s has no - or _: pick another", tok)
		}
		v, err := i.Verify(VerifyRequest{Token: tc.token, SiteID: req.SiteID, ClientIP: req.ClientIP, UserAgent: req.UserAgent, Origin: req.Origin, PowN: n})
		if err != tc.want || v != (Verified{}) {
			t.Errorf("%s: Verify = %+v, %v; want zero, %v", tc.name, v, err, tc.want)
		}
	}
	// The control: the token itself passes.
	if _, err := i.Verify(verifyRequestFor(tok, req, n)); err != nil {
		t.Fatalf("the unaltered token: %v", err)
	}
}

// alterChar replaces the character at j of tok with another base64url one.
func alterChar(tok string, j int) string {
	c := byte('A')
	if tok[j] == 'A' {
		c = 'B'
	}
	return tok[:j] + string(c) + tok[j+1:]
}

func TestVerifyErrorReasons(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, tc := range []struct {
		err    error
		reason string
	}{
		{ErrTokenMalformed, "token_malformed"},
		{ErrTokenKeyUnknown, "token_key_unknown"},
		{ErrTokenBadMAC, "token_bad_mac"},
		{ErrTokenExpired, "token_expired"},
		{ErrTokenFromFuture, "token_from_future"},
		{ErrTokenWrongSite, "token_wrong_site"},
		{ErrTokenOriginMismatch, "token_origin_mismatch"},
		{ErrTokenUAMismatch, "token_ua_mismatch"},
		{ErrPowInvalid, "pow_invalid"},
		{ErrReplay, "replay"},
		{ErrSeqLimit, "seq_limit"},
		{ErrReplayFull, "replay_full"},
	} {
		var ve *VerifyError
		wrapped := fmt.Errorf("collector: event: %w", tc.err)
		if !errors.As(wrapped, &ve) || ve.Reason != tc.reason {
			t.Errorf("%v: reason %+v, want %q", tc.err, ve, tc.reason)
		}
		if !errors.Is(wrapped, tc.err) || !errors.Is(tc.err, &VerifyError{Reason: tc.reason}) {
			t.Errorf("%v: errors.Is does not match its own reason", tc.err)
		}
		if got, want := tc.err.Error(), "abuse: rejected: "+tc.reason; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		if seen[tc.reason] {
			t.Errorf("reason %q used twice", tc.reason)
		}
		seen[tc.reason] = true
	}
	if errors.Is(ErrTokenExpired, ErrTokenBadMAC) {
		t.Errorf("errors.Is matches different reasons")
	}
}

func TestTokenConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  TokenConfig
		want string // "" means valid
	}{
		{TokenConfig{}, ""},
		{TokenConfig{TTL: time.Second}, ""},
		{TokenConfig{TTL: MaxTokenTTL, PowMaxHigh: math.MaxUint32}, ""},
		{TokenConfig{TTL: MaxTokenTTL + time.Second}, "token TTL 18h12m16s is out of range [1s, 18h12m15s]"},
		{TokenConfig{TTL: -time.Minute}, "token TTL -1m0s is out of range"},
		{TokenConfig{TTL: time.Millisecond}, "token TTL 1ms is out of range"},
		{TokenConfig{TTL: 1500 * time.Millisecond}, "token TTL 1.5s is not whole seconds"},
	} {
		err := tc.cfg.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
		func() {
			defer func() {
				if r := recover(); (r != nil) != (tc.want != "") {
					t.Errorf("NewIssuer(%+v) panic = %v, want a panic: %v", tc.cfg, r, tc.want != "")
				}
			}()
			newTestIssuer(t, tc.cfg, nil)
		}()
	}
}

func TestIssueErrors(t *testing.T) {
	t.Parallel()
	req := testIssueRequest()
	req.Tier = numTiers
	if tok, c, err := newTestIssuer(t, TokenConfig{}, nil).Issue(req); tok != "" || c != (Claims{}) || err == nil || err.Error() != "abuse: issue token: unknown tier 4" {
		t.Errorf("Issue(tier 4) = %q, %+v, %v", tok, c, err)
	}
	if tok, c, err := newTestIssuer(t, TokenConfig{Rand: failingReader{}}, nil).Issue(testIssueRequest()); tok != "" || c != (Claims{}) || err == nil || !strings.Contains(err.Error(), "entropy exhausted") {
		t.Errorf("Issue(failing rand) = %q, %+v, %v", tok, c, err)
	}
}

func TestTierString(t *testing.T) {
	t.Parallel()
	for tier, want := range map[Tier]string{TierNormal: "normal", TierElevated: "elevated", TierHigh: "high", TierDeclaredBot: "declared_bot", 4: "tier(4)"} {
		if got := tier.String(); got != want {
			t.Errorf("Tier(%d).String() = %q, want %q", uint8(tier), got, want)
		}
		if tier.Valid() != (tier < 4) {
			t.Errorf("Tier(%d).Valid() = %v", uint8(tier), tier.Valid())
		}
	}
}

func TestIssuerRedacted(t *testing.T) {
	t.Parallel()
	i := newTestIssuer(t, TokenConfig{}, nil)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if got := fmt.Sprintf(verb, i); got != "abuse.Issuer{redacted}" {
			t.Errorf("Sprintf(%q, issuer) = %q", verb, got)
		}
	}
}

// TestIssuedTokensDiffer: with crypto/rand, page-load ids never repeat.
func TestIssuedTokensDiffer(t *testing.T) {
	t.Parallel()
	i := newTestIssuer(t, TokenConfig{}, newTestClock(tokenT0()).Now)
	seen := map[[16]byte]bool{}
	for range 1000 {
		_, c := mustIssue(t, i, testIssueRequest())
		if seen[c.PageLoadID] {
			t.Fatalf("page-load id %x issued twice", c.PageLoadID)
		}
		seen[c.PageLoadID] = true
	}
}

func TestVerifyDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	i := newTestIssuer(t, TokenConfig{}, newTestClock(tokenT0()).Now)
	req := testIssueRequest()
	tok, c := mustIssue(t, i, req)
	vreq := verifyRequestFor(tok, req, mustSolve(t, c))
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := i.Verify(vreq); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Verify: %v allocations, want 0", n)
	}
	bad := vreq
	bad.Token = alterChar(tok, 100)
	if n := testing.AllocsPerRun(1000, func() { i.Verify(bad) }); n != 0 {
		t.Errorf("Verify (bad MAC): %v allocations, want 0", n)
	}
}

// TestIssuerConcurrent is for the race detector: the pooled hash state is
// shared across goroutines and across days.
func TestIssuerConcurrent(t *testing.T) {
	t.Parallel()
	clock := newTestClock(time.Date(2024, 10, 4, 23, 59, 0, 0, time.UTC))
	i := newTestIssuer(t, TokenConfig{}, clock.Now)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for j := range 50 {
				req := testIssueRequest()
				req.SiteID[0] = byte(g)
				tok, c, err := i.Issue(req)
				if err != nil {
					t.Error(err)
					return
				}
				if j == 25 && g == 0 {
					clock.Set(time.Date(2024, 10, 5, 0, 1, 0, 0, time.UTC)) // the day changes under them
				}
				if _, err := i.Verify(verifyRequestFor(tok, req, mustSolve(t, c))); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkIssue(b *testing.B) {
	i := newTestIssuer(b, TokenConfig{}, newTestClock(tokenT0()).Now)
	req := testIssueRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := i.Issue(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is the hot path: one verification per event request.
func BenchmarkVerify(b *testing.B) {
	i := newTestIssuer(b, TokenConfig{}, newTestClock(tokenT0()).Now)
	req := testIssueRequest()
	tok, c := mustIssue(b, i, req)
	vreq := verifyRequestFor(tok, req, mustSolve(b, c))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Verify(vreq); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkVerifyParallel is the hot path on every core, sharing the pool.
func BenchmarkVerifyParallel(b *testing.B) {
	i := newTestIssuer(b, TokenConfig{}, newTestClock(tokenT0()).Now)
	req := testIssueRequest()
	tok, c := mustIssue(b, i, req)
	vreq := verifyRequestFor(tok, req, mustSolve(b, c))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := i.Verify(vreq); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkVerifyForged is the cost of refusing a forgery (a bad MAC).
func BenchmarkVerifyForged(b *testing.B) {
	i := newTestIssuer(b, TokenConfig{}, newTestClock(tokenT0()).Now)
	req := testIssueRequest()
	tok, c := mustIssue(b, i, req)
	vreq := verifyRequestFor(alterChar(tok, 100), req, mustSolve(b, c))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := i.Verify(vreq); err != ErrTokenBadMAC {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

func TestPeekSiteID(t *testing.T) {
	iss := NewIssuer(newTestKeyring(t, testMaster()), TokenConfig{}, func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) })
	site := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	tok, _, err := iss.Issue(IssueRequest{SiteID: site})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := PeekSiteID(tok); !ok || got != site {
		t.Fatalf("PeekSiteID = %x, %v; want %x", got, ok, site)
	}
	for _, bad := range []string{"", "x", tok[:len(tok)-1], tok + "A"} {
		if _, ok := PeekSiteID(bad); ok {
			t.Errorf("PeekSiteID(%q) accepted a malformed token", bad)
		}
	}
}
