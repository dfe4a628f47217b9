package abuse

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/netip"
	"sync"
	"time"
)

// A page-load token is a fixed little-endian binary layout, MACed as bytes
// and sent as unpadded base64url (EncodedTokenLen characters). Nothing in it
// is ever parsed from text, and every byte before the MAC is covered by it:
// changing the expiry of a solved challenge (ALTCHA's CVE-2025-68113) means
// forging the MAC.
//
//	offset  len  field
//	     0    1  version, tokenVersion (1)
//	     1    1  key id: Keyring.KeyID of the issue day (day mod 256)
//	     2   16  site id
//	    18   16  page-load id: 16 random bytes from the issuer
//	    34    8  issued at: int64 Unix seconds
//	    42    2  TTL: uint16 seconds (at most 65,535 s, about 18 h)
//	    44    1  tier (Tier)
//	    45    4  PoW max: uint32, the highest n the snippet has to try
//	    49   16  PoW target: SHA-256(page-load id ‖ le32(n*))[:16]
//	    65    8  IP-prefix hash: HMAC-SHA256(IPPrefixKey(issue day), prefix)[:8]
//	    73    8  User-Agent hash: SHA-256("verity/ua/v1\x00" ‖ UA)[:8]
//	    81    8  Origin hash: SHA-256("verity/origin/v1\x00" ‖ Origin)[:8]
//	    89   16  MAC: HMAC-SHA256(TokenKey(issue day), bytes 0–88)[:16]
//	   105       end (TokenLen); 105 = 35 × 3, so base64 has no partial group
//
// The prefix is the client's /24 (IPv4, also when IPv4-mapped) or /48
// (IPv6), hashed as 0x04 ‖ 3 bytes or 0x06 ‖ 6 bytes (0x00 alone for a
// missing address). It is keyed by a daily key that is never stored, so a
// token (which the client sees and logs may keep) reveals no IP; the UA and
// Origin are the client's own, so their hashes need no key. 64 bits are
// enough for bindings: matching another UA's hash means a 2^64 search.
//
// Changing the layout means a new version: old tokens are then rejected
// as malformed (they live at most TTL).
const (
	tokenVersion = 1

	offVersion    = 0
	offKeyID      = 1
	offSiteID     = 2
	offPLID       = 18
	offIssuedAt   = 34
	offTTL        = 42
	offTier       = 44
	offPowMax     = 45
	offPowTarget  = 49
	offIPHash     = 65
	offUAHash     = 73
	offOriginHash = 81
	offMAC        = 89
	macLen        = 16

	// TokenLen is the length of a decoded token, in bytes.
	TokenLen = offMAC + macLen
	// EncodedTokenLen is the length of a token string: TokenLen bytes in
	// unpadded base64url.
	EncodedTokenLen = TokenLen / 3 * 4

	uaHashLabel     = "verity/ua/v1\x00"
	originHashLabel = "verity/origin/v1\x00"
)

// tokenEncoding is unpadded base64url that also refuses non-zero trailing
// bits, so that one token has exactly one string. It is never modified.
var tokenEncoding = base64.RawURLEncoding.Strict()

// ClockSkew is how far in the future a token's issue time may be (another
// node's clock running ahead), and how close to midnight tomorrow's key id
// is accepted.
const ClockSkew = 30 * time.Second

// Tier is the risk tier of a page load, picked by the issuing endpoint from
// cheap signals (IP class, issuance rate, UA); it sets the proof of work.
type Tier uint8

// The tiers. The numbers are part of the token layout: do not renumber.
const (
	// TierNormal: residential address, normal rate (PoW max 2,000: ≈ 35 ms
	// mean on a throttled phone).
	TierNormal Tier = iota
	// TierElevated: hosting or VPN address, or a high issuance rate (20,000).
	TierElevated
	// TierHigh: Tor, public proxy, or a very high rate (200,000).
	TierHigh
	// TierDeclaredBot: a bot that says so. No proof of work; its events are
	// counted as GIVT, never as visits.
	TierDeclaredBot

	numTiers = iota
)

func (t Tier) String() string {
	switch t {
	case TierNormal:
		return "normal"
	case TierElevated:
		return "elevated"
	case TierHigh:
		return "high"
	case TierDeclaredBot:
		return "declared_bot"
	}
	return fmt.Sprintf("tier(%d)", uint8(t))
}

// Valid reports whether t is one of the tiers above.
func (t Tier) Valid() bool { return t < numTiers }

// Claims is what a token says. Everything in it is covered by the MAC.
type Claims struct {
	SiteID     [16]byte
	PageLoadID [16]byte // random, chosen by the issuer
	IssuedAt   time.Time
	TTL        time.Duration // whole seconds
	Tier       Tier
	PowMax     uint32   // 0 for TierDeclaredBot
	PowTarget  [16]byte // zero for TierDeclaredBot
	// IPPrefixHash, UAHash and OriginHash bind the token to the client it
	// was issued to (see the layout above).
	IPPrefixHash [8]byte
	UAHash       [8]byte
	OriginHash   [8]byte
	KeyID        uint8 // Keyring.KeyID of the issue day
}

// Expires is when the token stops being valid: IssuedAt + TTL. It is the
// expiry to give ReplayGuard.Check.
func (c Claims) Expires() time.Time { return c.IssuedAt.Add(c.TTL) }

// Defaults of TokenConfig.
const (
	DefaultTokenTTL       = 30 * time.Minute
	DefaultPowMaxNormal   = 2_000
	DefaultPowMaxElevated = 20_000
	DefaultPowMaxHigh     = 200_000

	// MaxTokenTTL is the longest TTL the 2-byte field holds. It is shorter
	// than a day, so a token expires before its key id stops being accepted.
	MaxTokenTTL = 65535 * time.Second
)

// TokenConfig configures an Issuer. The zero value means every default.
type TokenConfig struct {
	// TTL is how long a token stays valid after its issue: whole seconds,
	// from 1 s to MaxTokenTTL. Zero means DefaultTokenTTL (30 min).
	TTL time.Duration
	// PowMaxNormal, PowMaxElevated and PowMaxHigh are the PoW max of each
	// tier: the snippet tries up to max+1 hashes, max/2 on average. Zero
	// means the default (2,000, 20,000 and 200,000). TierDeclaredBot has no
	// proof of work.
	PowMaxNormal, PowMaxElevated, PowMaxHigh uint32
	// Rand is the source of page-load ids and PoW secrets. Nil means
	// crypto/rand; set it only in tests (for golden tokens). Reads are
	// serialized by the Issuer.
	Rand io.Reader
}

func (c TokenConfig) withDefaults() TokenConfig {
	if c.TTL == 0 {
		c.TTL = DefaultTokenTTL
	}
	if c.PowMaxNormal == 0 {
		c.PowMaxNormal = DefaultPowMaxNormal
	}
	if c.PowMaxElevated == 0 {
		c.PowMaxElevated = DefaultPowMaxElevated
	}
	if c.PowMaxHigh == 0 {
		c.PowMaxHigh = DefaultPowMaxHigh
	}
	return c
}

// Validate reports every problem of the configuration (after defaults) at
// once. NewIssuer panics on a configuration Validate refuses.
func (c TokenConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.TTL < time.Second || c.TTL > MaxTokenTTL {
		errs = append(errs, fmt.Errorf("abuse: token TTL %v is out of range [1s, %v]", c.TTL, MaxTokenTTL))
	} else if c.TTL%time.Second != 0 {
		errs = append(errs, fmt.Errorf("abuse: token TTL %v is not whole seconds", c.TTL))
	}
	return errors.Join(errs...)
}

// Issuer issues and verifies page-load tokens with the daily token keys of
// a Keyring. Nodes sharing the master secret verify each other's tokens.
// An Issuer is safe for concurrent use; create it with NewIssuer.
type Issuer struct {
	keys   *Keyring
	now    func() time.Time
	ttl    time.Duration
	powMax [numTiers]uint32

	randMu sync.Mutex // serializes reads of rand, a test's reader
	rand   io.Reader  // nil: crypto/rand

	states sync.Pool // of *tokenState
}

// NewIssuer returns an Issuer using keys, cfg (zero fields take their
// defaults) and the clock now (nil means time.Now). It panics if keys is nil
// or cfg is invalid: check cfg with Validate when loading configuration.
func NewIssuer(keys *Keyring, cfg TokenConfig, now func() time.Time) *Issuer {
	if keys == nil {
		panic("abuse: NewIssuer: nil Keyring")
	}
	if err := cfg.Validate(); err != nil {
		panic("abuse: NewIssuer: " + err.Error())
	}
	cfg = cfg.withDefaults()
	if now == nil {
		now = time.Now
	}
	return &Issuer{
		keys:   keys,
		now:    now,
		ttl:    cfg.TTL,
		powMax: [numTiers]uint32{cfg.PowMaxNormal, cfg.PowMaxElevated, cfg.PowMaxHigh, 0},
		rand:   cfg.Rand,
		states: sync.Pool{New: func() any { return new(tokenState) }},
	}
}

// String keeps the keyring out of logs.
func (i *Issuer) String() string { return "abuse.Issuer{redacted}" }

// GoString keeps the keyring out of %#v.
func (i *Issuer) GoString() string { return i.String() }

// IssueRequest is what the challenge endpoint knows about the page load.
type IssueRequest struct {
	SiteID   [16]byte
	ClientIP netip.Addr // only its /24 or /48 prefix is used, keyed and hashed
	// UserAgent and Origin are the request headers as received; Verify
	// compares them byte for byte.
	UserAgent, Origin string
	Tier              Tier
}

// Issue returns a new token for the page load, as a string for the client and
// as Claims. It picks the proof-of-work secret n* uniformly in [0, PowMax]
// (the modulo bias of a 64-bit draw is below 2^-32). The only errors are an
// invalid tier and a failing Rand.
func (i *Issuer) Issue(r IssueRequest) (token string, c Claims, err error) {
	if !r.Tier.Valid() {
		return "", Claims{}, fmt.Errorf("abuse: issue token: unknown tier %d", uint8(r.Tier))
	}
	st := i.states.Get().(*tokenState)
	defer i.states.Put(st)
	rnd := st.rand[:] // page-load id, PoW secret
	if err := i.read(rnd); err != nil {
		return "", Claims{}, fmt.Errorf("abuse: issue token: %w", err)
	}
	sec := i.now().Unix()
	day := Day(time.Unix(sec, 0))
	c = Claims{
		SiteID:     r.SiteID,
		PageLoadID: [16]byte(rnd[:16]),
		IssuedAt:   time.Unix(sec, 0).UTC(),
		TTL:        i.ttl,
		Tier:       r.Tier,
		KeyID:      i.keys.KeyID(day),
	}
	if r.Tier != TierDeclaredBot {
		c.PowMax = i.powMax[r.Tier]
		secret := uint32(binary.LittleEndian.Uint64(rnd[16:]) % (uint64(c.PowMax) + 1))
		c.PowTarget = powTarget(c.PageLoadID, secret)
	}
	clear(st.rand[:]) // the secret leaves no copy in the pooled state

	c.IPPrefixHash = st.ipPrefixHash(i.keys, day, r.ClientIP)
	c.UAHash = st.stringHash(uaHashLabel, r.UserAgent)
	c.OriginHash = st.stringHash(originHashLabel, r.Origin)
	st.sign(i.keys, &c)
	tokenEncoding.Encode(st.enc[:], st.raw[:])
	return string(st.enc[:]), c, nil
}

// PrefixHash is the keyed hash of addr's /24 or /48 under today's key, as
// Issue puts it in a token's IPPrefixHash: a network's key for per-network
// counting (issuance velocity) that holds no address. The key changes
// daily, so such counts start over at 00:00 UTC.
func (i *Issuer) PrefixHash(addr netip.Addr) [8]byte {
	st := i.states.Get().(*tokenState)
	defer i.states.Put(st)
	return st.ipPrefixHash(i.keys, Day(time.Unix(i.now().Unix(), 0)), addr)
}

// read fills b from the configured randomness.
func (i *Issuer) read(b []byte) error {
	if i.rand == nil {
		_, err := rand.Read(b) // never fails since Go 1.24
		return err
	}
	i.randMu.Lock()
	defer i.randMu.Unlock()
	_, err := io.ReadFull(i.rand, b)
	return err
}

// VerifyRequest is what the event endpoint knows: the token and solution
// the client sent, and the request the events came in.
type VerifyRequest struct {
	Token    string
	SiteID   [16]byte // the site the events are for (from the request's site key)
	ClientIP netip.Addr
	// UserAgent and Origin are the request headers as received.
	UserAgent, Origin string
	PowN              uint32 // the client's solution; ignored for TierDeclaredBot
}

// Verified is an accepted token: its claims, and the signals that are not
// reasons to reject but go to the scorer.
type Verified struct {
	Claims
	// IPPrefixChanged: the client's /24 or /48 differs from the one the token
	// was issued to. Phones change networks, so it is a score signal only.
	IPPrefixChanged bool
}

// Verify checks a token and the request carrying it, in this order, and
// returns the first failure as one of the sentinel *VerifyErrors:
//
//  1. length, strict base64url and version (ErrTokenMalformed);
//  2. the key id is today's or yesterday's (ErrTokenKeyUnknown);
//  3. the MAC, in constant time (ErrTokenBadMAC);
//  4. not expired (ErrTokenExpired), not issued more than ClockSkew in the
//     future (ErrTokenFromFuture);
//  5. the site (ErrTokenWrongSite), the Origin hash
//     (ErrTokenOriginMismatch), the User-Agent hash (ErrTokenUAMismatch);
//  6. the proof of work, except for TierDeclaredBot (ErrPowInvalid).
//
// A different IP prefix is reported in Verified, not rejected. Replay is
// not checked here: that is ReplayGuard's job, after Verify. On error the
// Verified is zero. Verify does not allocate, and keeps no reference to r's
// strings (they may alias Fiber's reused request buffers).
func (i *Issuer) Verify(r VerifyRequest) (Verified, error) {
	if len(r.Token) != EncodedTokenLen {
		return Verified{}, ErrTokenMalformed
	}
	st := i.states.Get().(*tokenState)
	defer i.states.Put(st)

	if !st.decode(r.Token) {
		return Verified{}, ErrTokenMalformed
	}
	now := i.now()
	day, ok := i.keyDay(now, st.raw[offKeyID])
	if !ok {
		return Verified{}, ErrTokenKeyUnknown
	}
	if !hmac.Equal(st.mac(i.keys, day, st.raw[:offMAC]), st.raw[offMAC:]) {
		return Verified{}, ErrTokenBadMAC
	}

	// Authentic from here on: the issuer wrote every field.
	c := decodeClaims(&st.raw)
	if !c.Tier.Valid() {
		return Verified{}, ErrTokenMalformed
	}
	if !now.Before(c.Expires()) {
		return Verified{}, ErrTokenExpired
	}
	if c.IssuedAt.After(now.Add(ClockSkew)) {
		return Verified{}, ErrTokenFromFuture
	}
	if c.SiteID != r.SiteID {
		return Verified{}, ErrTokenWrongSite
	}
	if st.stringHash(originHashLabel, r.Origin) != c.OriginHash {
		return Verified{}, ErrTokenOriginMismatch
	}
	if st.stringHash(uaHashLabel, r.UserAgent) != c.UAHash {
		return Verified{}, ErrTokenUAMismatch
	}
	if c.Tier != TierDeclaredBot && !CheckPoW(c.PageLoadID, r.PowN, c.PowTarget, c.PowMax) {
		return Verified{}, ErrPowInvalid
	}
	return Verified{
		Claims:          c,
		IPPrefixChanged: st.ipPrefixHash(i.keys, day, r.ClientIP) != c.IPPrefixHash,
	}, nil
}

// keyDay is the day whose token key verifies a token with key id: today's or
// yesterday's, or tomorrow's within ClockSkew of midnight (a node whose clock
// runs ahead has already switched). Older keys are refused, so a token
// outlives its day by at most one day whatever its TTL says.
func (i *Issuer) keyDay(now time.Time, id uint8) (int64, bool) {
	today := Day(now)
	if day, ok := i.keys.TokenDay(today, id); ok {
		return day, true
	}
	if soon := Day(now.Add(ClockSkew)); soon != today && i.keys.KeyID(soon) == id {
		return soon, true
	}
	return 0, false
}

// decode decodes the token s into st.raw and reports whether it has the
// right length, strict base64url and the right version. It checks nothing
// else: the MAC is still to be verified.
func (st *tokenState) decode(s string) bool {
	if len(s) != EncodedTokenLen {
		return false
	}
	copy(st.enc[:], s) // decoding a string would allocate a []byte copy
	n, err := tokenEncoding.Decode(st.raw[:], st.enc[:])
	return err == nil && n == TokenLen && st.raw[offVersion] == tokenVersion
}

// decodeClaims reads the fields of a token (the MAC excluded).
func decodeClaims(raw *[TokenLen]byte) Claims {
	le := binary.LittleEndian
	return Claims{
		SiteID:       [16]byte(raw[offSiteID:]),
		PageLoadID:   [16]byte(raw[offPLID:]),
		IssuedAt:     time.Unix(int64(le.Uint64(raw[offIssuedAt:])), 0).UTC(),
		TTL:          time.Duration(le.Uint16(raw[offTTL:])) * time.Second,
		Tier:         Tier(raw[offTier]),
		PowMax:       le.Uint32(raw[offPowMax:]),
		PowTarget:    [16]byte(raw[offPowTarget:]),
		IPPrefixHash: [8]byte(raw[offIPHash:]),
		UAHash:       [8]byte(raw[offUAHash:]),
		OriginHash:   [8]byte(raw[offOriginHash:]),
		KeyID:        raw[offKeyID],
	}
}

// encodeClaims writes the fields of c into raw (the MAC excluded). TTL must
// be whole seconds below MaxTokenTTL.
func encodeClaims(raw *[TokenLen]byte, c *Claims) {
	le := binary.LittleEndian
	raw[offVersion] = tokenVersion
	raw[offKeyID] = c.KeyID
	copy(raw[offSiteID:], c.SiteID[:])
	copy(raw[offPLID:], c.PageLoadID[:])
	le.PutUint64(raw[offIssuedAt:], uint64(c.IssuedAt.Unix()))
	le.PutUint16(raw[offTTL:], uint16(c.TTL/time.Second))
	raw[offTier] = byte(c.Tier)
	le.PutUint32(raw[offPowMax:], c.PowMax)
	copy(raw[offPowTarget:], c.PowTarget[:])
	copy(raw[offIPHash:], c.IPPrefixHash[:])
	copy(raw[offUAHash:], c.UAHash[:])
	copy(raw[offOriginHash:], c.OriginHash[:])
}

// tokenState is the scratch space of one Issue or Verify: keyed HMACs and a
// SHA-256, reused through the Issuer's pool so that the hot path allocates
// nothing. HMACs are kept per day (by day mod 4: today, yesterday and
// tomorrow never share a slot) and only rekeyed when the day changes; Reset
// returns one to its keyed state without touching the key.
type tokenState struct {
	tokenMACs [4]dayMAC
	ipMACs    [4]dayMAC
	sha       hash.Hash // SHA-256, nil until first used
	sum       [sha256.Size]byte
	raw       [TokenLen]byte
	enc       [EncodedTokenLen]byte
	rand      [16 + 8]byte // Issue's page-load id and PoW secret
	chunk     [128]byte    // strings are hashed through it, without a []byte copy
}

type dayMAC struct {
	h   hash.Hash // nil until first used
	day int64
}

// keyed returns the HMAC of slot m for day, reset, creating it with key(day)
// if the slot holds another day.
func (m *dayMAC) keyed(day int64, key func(int64) []byte) hash.Hash {
	if m.h == nil || m.day != day {
		m.h, m.day = hmac.New(sha256.New, key(day)), day
	} else {
		m.h.Reset()
	}
	return m.h
}

// mac returns the truncated token MAC of msg under day's token key. The
// result aliases st.sum.
func (st *tokenState) mac(keys *Keyring, day int64, msg []byte) []byte {
	h := st.tokenMACs[day&3].keyed(day, keys.TokenKey)
	h.Write(msg)
	return h.Sum(st.sum[:0])[:macLen]
}

// sign encodes c into st.raw and MACs it with the key of c's issue day.
func (st *tokenState) sign(keys *Keyring, c *Claims) {
	encodeClaims(&st.raw, c)
	copy(st.raw[offMAC:], st.mac(keys, Day(c.IssuedAt), st.raw[:offMAC]))
}

// ipPrefixHash is HMAC-SHA256(IPPrefixKey(day), prefix)[:8] of addr's /24 or
// /48 (see the layout).
func (st *tokenState) ipPrefixHash(keys *Keyring, day int64, addr netip.Addr) [8]byte {
	addr = addr.Unmap()
	msg := st.chunk[:0]
	switch {
	case addr.Is4():
		a := addr.As4()
		msg = append(msg, 4, a[0], a[1], a[2])
	case addr.Is6():
		a := addr.As16()
		msg = append(msg, 6, a[0], a[1], a[2], a[3], a[4], a[5])
	default:
		msg = append(msg, 0)
	}
	h := st.ipMACs[day&3].keyed(day, keys.IPPrefixKey)
	h.Write(msg)
	return [8]byte(h.Sum(st.sum[:0]))
}

// stringHash is SHA-256(label ‖ s)[:8].
func (st *tokenState) stringHash(label, s string) [8]byte {
	if st.sha == nil {
		st.sha = sha256.New()
	}
	h := st.sha
	h.Reset()
	h.Write(st.chunk[:copy(st.chunk[:], label)])
	for len(s) > 0 {
		n := copy(st.chunk[:], s)
		h.Write(st.chunk[:n])
		s = s[n:]
	}
	return [8]byte(h.Sum(st.sum[:0]))
}

// PeekSiteID reads the site id from a token WITHOUT verifying it, so the
// collector can find the site whose Origin allowlist applies before it
// verifies. Nothing may be trusted until Verify, which checks the MAC over
// the site id and that it matches.
func PeekSiteID(token string) ([16]byte, bool) {
	var st tokenState
	if !st.decode(token) {
		return [16]byte{}, false
	}
	return [16]byte(st.raw[offSiteID:]), true
}
