package abuse

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/hkdf"
)

const (
	// MinMasterLen is the shortest master secret accepted, in bytes.
	MinMasterLen = 32
	// KeyLen is the length of every derived key, in bytes.
	KeyLen = 32

	// SecretKeyPrefix starts every site secret key (server-to-server).
	SecretKeyPrefix = "sk_"
	// PublicKeyPrefix starts every public site key (the snippet's data-site).
	PublicKeyPrefix = "pk_"

	// hkdfSalt is the fixed, public HKDF-Extract salt (RFC 5869 §3.1: an
	// application-specific constant is fine). Changing it changes every key.
	hkdfSalt = "verity keyring v1"

	// cacheDays is how many days of each daily key stay cached: today and
	// yesterday (the token window) plus slack for clocks around midnight.
	cacheDays = 4
	// maxCached bounds the cache: cacheDays of each daily purpose.
	maxCached = cacheDays * 3

	secondsPerDay = 24 * 60 * 60
)

// purpose separates derived keys: each has its own HKDF info label, so a key
// for one purpose says nothing about any other.
type purpose uint8

const (
	purposeToken purpose = iota + 1
	purposeIPPrefix
	purposeVisitorSalt
	purposeSiteSecret
)

// label is the purpose's part of the HKDF info. The labels are part of the
// key derivation: changing one invalidates every key derived with it (live
// tokens, site secret keys held by clients).
func (p purpose) label() string {
	switch p {
	case purposeToken:
		return "page-load token hmac"
	case purposeIPPrefix:
		return "ip prefix hmac"
	case purposeVisitorSalt:
		return "visitor salt"
	case purposeSiteSecret:
		return "site secret key"
	}
	panic(fmt.Sprintf("abuse: unknown key purpose %d", p))
}

// cacheKey names one cached daily key. Two unpadded words hash faster than
// a purpose byte and its padding: this lookup is on the hot path.
type cacheKey struct {
	day int64
	p   int64 // a purpose
}

// Keyring derives every secret Verity uses from one master secret with
// HKDF-SHA256, each with a distinct purpose label and context (day, site),
// so that every node given the same master secret derives the same keys and
// no key is ever distributed or stored.
//
// Daily keys are cached (the token key is on the hot path of every event).
// Keys returned by a Keyring are shared: callers must not modify them.
// A Keyring is safe for concurrent use; create it with NewKeyring.
type Keyring struct {
	prk []byte // HKDF pseudorandom key; the master itself is not kept

	mu    sync.Mutex
	cache map[cacheKey]*[KeyLen]byte // at most maxCached entries
}

// NewKeyring returns a Keyring for a master secret of at least MinMasterLen
// random bytes (see ParseMaster). It does not retain master.
func NewKeyring(master []byte) (*Keyring, error) {
	if len(master) < MinMasterLen {
		return nil, fmt.Errorf("abuse: master secret is %d bytes, need at least %d", len(master), MinMasterLen)
	}
	if isRepeated(master) {
		// A placeholder such as 64 zeros copied from an example is not a secret.
		return nil, errors.New("abuse: master secret is one byte repeated; use random bytes (`verity dev` or `openssl rand -hex 32` makes one)")
	}
	return &Keyring{
		prk:   hkdf.Extract(sha256.New, master, []byte(hkdfSalt)),
		cache: make(map[cacheKey]*[KeyLen]byte, maxCached),
	}, nil
}

// String keeps key material out of logs and error messages.
func (k *Keyring) String() string { return "abuse.Keyring{redacted}" }

// GoString keeps key material out of %#v.
func (k *Keyring) GoString() string { return k.String() }

// Day returns the day number of t: whole days since the Unix epoch, in UTC.
// It is the day argument of the Keyring's daily keys.
func Day(t time.Time) int64 {
	s := t.Unix()
	d := s / secondsPerDay
	if s%secondsPerDay < 0 { // floor, not truncation, before 1970
		d--
	}
	return d
}

// TokenKey is the HMAC-SHA256 key for the page-load tokens issued on day
// (see Day). Tokens name it by KeyID(day); a token is valid on the day it was
// issued and the next (see TokenDay). The result is shared: do not modify it.
func (k *Keyring) TokenKey(day int64) []byte { return k.daily(purposeToken, day) }

// KeyID is the key id written into tokens issued on day: day mod 256. Today's
// and yesterday's ids always differ, so an id names one of the two days.
func (k *Keyring) KeyID(day int64) uint8 {
	return uint8(day) // two's complement truncation is day mod 256, also for negative days
}

// TokenDay maps the key id of a token to the day whose TokenKey must verify
// it, given today's day number: only today's and yesterday's ids are
// accepted; ok is false for any other id.
func (k *Keyring) TokenDay(today int64, id uint8) (day int64, ok bool) {
	switch id {
	case k.KeyID(today):
		return today, true
	case k.KeyID(today - 1):
		return today - 1, true
	}
	return 0, false
}

// IPPrefixKey is the HMAC key for hashing IP prefixes (/24, /48) seen on day.
// It is never stored: from stored data alone (a database dump) a day's prefix
// hashes cannot be reversed or linked to another day's. Whoever holds the
// master secret can derive it again. Do not modify it.
func (k *Keyring) IPPrefixKey(day int64) []byte { return k.daily(purposeIPPrefix, day) }

// VisitorSalt is the salt for day's cookie-less visitor ids. Like
// IPPrefixKey it is never stored, and whoever holds the master secret can
// derive it again. Do not modify it.
func (k *Keyring) VisitorSalt(day int64) []byte { return k.daily(purposeVisitorSalt, day) }

// SiteSecret is the server-to-server secret key of a site at a secret
// version: SecretKeyPrefix followed by the unpadded base64url of KeyLen
// derived bytes (46 characters in all).
//
// The key is shown to the client once; storage keeps only SecretHash of it
// and Verity derives it again to check request signatures, so a database
// leak does not reveal it. Rotating means incrementing version.
func (k *Keyring) SiteSecret(siteID [16]byte, version uint32) string {
	var ctx [16 + 4]byte
	copy(ctx[:16], siteID[:])
	binary.BigEndian.PutUint32(ctx[16:], version)
	key := k.derive(purposeSiteSecret, ctx[:])
	return SecretKeyPrefix + base64.RawURLEncoding.EncodeToString(key[:])
}

// SecretHash is what storage keeps of a secret key: the hex SHA-256 of it.
func SecretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// daily returns the cached key of a daily purpose, deriving it on a miss.
// A hit does not allocate.
func (k *Keyring) daily(p purpose, day int64) []byte {
	ck := cacheKey{day: day, p: int64(p)}
	k.mu.Lock()
	key, ok := k.cache[ck]
	if !ok {
		var ctx [8]byte
		binary.BigEndian.PutUint64(ctx[:], uint64(day))
		derived := k.derive(p, ctx[:])
		key = &derived
		k.store(ck, key)
	}
	k.mu.Unlock()
	return key[:KeyLen:KeyLen]
}

// store caches key, evicting the oldest day when the cache is full. A key
// older than everything cached (a lookup of some past day) is not cached, so
// it cannot push out today's keys. Called with k.mu held.
func (k *Keyring) store(ck cacheKey, key *[KeyLen]byte) {
	if len(k.cache) >= maxCached {
		oldest := ck
		for c := range k.cache {
			if c.day < oldest.day {
				oldest = c
			}
		}
		if oldest == ck {
			return
		}
		delete(k.cache, oldest)
	}
	k.cache[ck] = key
}

// derive expands the key for a purpose and its context. The HKDF info is
// "verity/v1" 0x00 label 0x00 context: labels contain no NUL and each
// purpose has a fixed context length, so no two (purpose, context) pairs
// share an info string.
func (k *Keyring) derive(p purpose, ctx []byte) [KeyLen]byte {
	label := p.label()
	info := make([]byte, 0, len("verity/v1")+1+len(label)+1+len(ctx))
	info = append(info, "verity/v1"...)
	info = append(info, 0)
	info = append(info, label...)
	info = append(info, 0)
	info = append(info, ctx...)

	var key [KeyLen]byte
	if _, err := io.ReadFull(hkdf.Expand(sha256.New, k.prk, info), key[:]); err != nil {
		// HKDF-SHA256 yields up to 255*32 bytes; reading 32 cannot fail.
		panic("abuse: hkdf expand: " + err.Error())
	}
	return key
}

// publicKeyEncoding is lowercase base32 without padding: one case, no
// punctuation, safe in HTML attributes, URLs and file names. It is never
// modified.
var publicKeyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewPublicKey returns a new random public site key: PublicKeyPrefix and 26
// lowercase base32 characters (128 random bits). Public keys are not
// derived: they name a site and carry no authority.
func NewPublicKey() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("abuse: public key: %w", err)
	}
	return PublicKeyPrefix + publicKeyEncoding.EncodeToString(b[:]), nil
}

// ParseMaster decodes the master secret given in configuration: hex (at
// least 64 digits) or base64 in the standard or URL alphabet, padded or not
// (at least 43 characters), of at least MinMasterLen bytes. Surrounding
// whitespace and a 0x before hex digits are ignored. A string of hex digits
// only is read as hex.
//
// The errors never contain the secret or any part of it.
func ParseMaster(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("abuse: master secret is empty; `verity dev` or `openssl rand -hex 32` makes one")
	}
	if len(s) > 2 && (s[:2] == "0x" || s[:2] == "0X") && isHex(s[2:]) {
		// Read as hex, as written; as base64 it would decode to other bytes.
		s = s[2:]
	}
	var b []byte
	switch {
	case isHex(s):
		if len(s)%2 != 0 {
			return nil, fmt.Errorf("abuse: master secret looks like hex but has an odd number of digits (%d)", len(s))
		}
		b, _ = hex.DecodeString(s) // cannot fail: even length, hex digits only
	default:
		var ok bool
		if b, ok = decodeBase64(s); !ok {
			// The decoders' errors are not wrapped: some quote the input.
			return nil, errors.New("abuse: master secret is neither hex nor base64; `verity dev` or `openssl rand -hex 32` makes one")
		}
	}
	if len(b) < MinMasterLen {
		return nil, fmt.Errorf("abuse: master secret is too short: %d bytes, need at least %d (64 hex digits, or 43 base64 characters)", len(b), MinMasterLen)
	}
	return b, nil
}

// GenerateMaster returns a new master secret: MinMasterLen random bytes in
// hex, for `verity dev` and the documentation.
func GenerateMaster() (string, error) {
	var b [MinMasterLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("abuse: generate master secret: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// isHex reports whether s is made of hex digits only (either case).
func isHex(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeBase64 decodes s with the first base64 variant that accepts it.
func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// isRepeated reports whether b is one byte repeated.
func isRepeated(b []byte) bool {
	for _, c := range b {
		if c != b[0] {
			return false
		}
	}
	return true
}
