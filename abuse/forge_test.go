package abuse

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"
)

const (
	// forgeBases is how many valid tokens are mutated; each yields about
	// 12,000 forgeries, so that the total is above forgeMinimum.
	forgeBases = 90
	// forgeMinimum is the target of ABUSE.md: at least a million forgeries,
	// every one refused. It always runs, also with -short.
	forgeMinimum = 1_000_000
	// forgeSwapPartners is how many other tokens each one takes fields from.
	forgeSwapPartners = 20
)

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// forgeBase is a valid token and the request it passes with.
type forgeBase struct {
	tok string
	raw []byte
	req VerifyRequest
}

// tokenField is a field of the layout, by offset and length.
type tokenField struct {
	name     string
	off, len int
}

var tokenFields = []tokenField{
	{"version", 0, 1}, {"key id", 1, 1}, {"site id", 2, 16}, {"page-load id", 18, 16},
	{"issued at", 34, 8}, {"ttl", 42, 2}, {"tier", 44, 1}, {"pow max", 45, 4},
	{"pow target", 49, 16}, {"ip prefix hash", 65, 8}, {"ua hash", 73, 8},
	{"origin hash", 81, 8}, {"mac", 89, 16},
}

// TestForgedTokensRejected makes more than a million structured forgeries
// of valid tokens — every bit flipped, every character replaced, truncated
// at every length, extended, fields swapped between tokens or set to chosen
// values without a new MAC, MACs made with the wrong keys, random bytes —
// and checks that Verify refuses every one, before the MAC or at it: no
// forgery may get as far as the checks that come after the MAC.
//
// Each forgery is sent with the request its original token passes with
// (the control checks that), so that only the forgery can fail it.
func TestForgedTokensRejected(t *testing.T) {
	t.Parallel()
	start := time.Now()
	k := newTestKeyring(t, testMaster())
	clock := newTestClock(tokenT0())
	i := NewIssuer(k, TokenConfig{}, clock.Now)

	bases := make([]forgeBase, forgeBases)
	for b := range bases {
		// Tokens of every tier, site, client and age (all still valid).
		clock.Set(tokenT0().Add(-time.Duration(b) * 7 * time.Second))
		ir := IssueRequest{
			SiteID:    [16]byte{byte(b), byte(b >> 8), 0xf0},
			ClientIP:  netip.AddrFrom4([4]byte{198, 51, byte(b), 7}),
			UserAgent: fmt.Sprintf("Mozilla/5.0 (test %d)", b),
			Origin:    fmt.Sprintf("https://site%d.example", b),
			Tier:      Tier(b % int(numTiers)),
		}
		if b%3 == 0 {
			ir.ClientIP = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(b), 15: 1})
		}
		tok, c := mustIssue(t, i, ir)
		bases[b] = forgeBase{tok: tok, raw: decodeTestToken(t, tok), req: verifyRequestFor(tok, ir, mustSolve(t, c))}
	}
	clock.Set(tokenT0())
	for _, b := range bases {
		if _, err := i.Verify(b.req); err != nil {
			t.Fatalf("control: the unaltered token %s: %v", b.tok, err)
		}
	}

	allowed := map[error]bool{ErrTokenMalformed: true, ErrTokenKeyUnknown: true, ErrTokenBadMAC: true}
	otherMaster := newTestKeyring(t, bytes.Repeat([]byte{7, 8, 9}, 11))
	wrongKeys := []struct {
		name string
		id   uint8
		key  []byte
		want error
	}{
		{"another master's token key", 32, otherMaster.TokenKey(20000), ErrTokenBadMAC},
		{"the IP-prefix key", 32, k.IPPrefixKey(20000), ErrTokenBadMAC},
		{"the visitor salt", 32, k.VisitorSalt(20000), ErrTokenBadMAC},
		{"yesterday's key under today's id", 32, k.TokenKey(19999), ErrTokenBadMAC},
		{"today's key under yesterday's id", 31, k.TokenKey(20000), ErrTokenBadMAC},
		{"a two-day-old key under its id", 30, k.TokenKey(19998), ErrTokenKeyUnknown},
		{"tomorrow's key under its id", 33, k.TokenKey(20001), ErrTokenKeyUnknown},
		{"an empty key", 32, nil, ErrTokenBadMAC},
	}

	type result struct {
		total   int
		reasons map[string]int
		fails   []string
	}
	workers := runtime.GOMAXPROCS(0)
	results := make([]result, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			res := &results[w]
			res.reasons = map[string]int{}
			req := VerifyRequest{}
			// check sends one forgery: what and x describe it (formatted only
			// on failure: a million Sprintfs would dominate the run time).
			check := func(what string, x int, tok string, want error) {
				res.total++
				req.Token = tok
				v, err := i.Verify(req)
				ve, _ := err.(*VerifyError)
				if ve != nil {
					res.reasons[ve.Reason]++
				}
				if err == nil || !allowed[err] || want != nil && err != want || v != (Verified{}) {
					if len(res.fails) < 10 {
						res.fails = append(res.fails, fmt.Sprintf("%s %d: Verify(%q) = %+v, %v; want a rejection at or before the MAC (%v)", what, x, tok, v, err, want))
					}
				}
			}
			raw := make([]byte, TokenLen, 2*TokenLen)
			str := make([]byte, EncodedTokenLen)
			// mutated checks raw unless it equals the original (a swap or a
			// set that changed nothing is not a forgery).
			mutated := func(what string, x int, orig []byte) {
				if bytes.Equal(raw, orig) {
					return
				}
				check(what, x, base64.RawURLEncoding.EncodeToString(raw), nil)
			}

			for b := w; b < len(bases); b += workers {
				base := &bases[b]
				req = base.req
				rng := rand.New(rand.NewPCG(uint64(b), 0x5eed))
				reset := func() []byte { raw = raw[:TokenLen]; copy(raw, base.raw); return raw }

				// Every bit of the decoded token flipped.
				for bit := range TokenLen * 8 {
					reset()[bit/8] ^= 1 << (bit % 8)
					mutated("bit", bit, base.raw)
				}
				// Every character replaced by every other character of the
				// alphabet, and by characters outside it.
				for j := range EncodedTokenLen {
					for _, c := range []byte(base64URLAlphabet + "+/=.\n \x00\xff") {
						if c == base.tok[j] {
							continue
						}
						copy(str, base.tok)
						str[j] = c
						check("character "+string(rune(c))+" at", j, string(str), nil)
					}
				}
				// Truncated at every length, as a string and as bytes.
				for n := range EncodedTokenLen {
					check("string cut to", n, base.tok[:n], ErrTokenMalformed)
				}
				for n := range TokenLen {
					check("bytes cut to", n, base64.RawURLEncoding.EncodeToString(base.raw[:n]), ErrTokenMalformed)
				}
				// Extended.
				for _, c := range []byte(base64URLAlphabet) {
					check("appended character", int(c), base.tok+string(c), ErrTokenMalformed)
				}
				for _, ext := range []string{"=", "==", "\n", base.tok, base.tok[:4]} {
					check("appended "+ext, 0, base.tok+ext, ErrTokenMalformed)
				}
				for n := 1; n <= 6; n++ {
					check("bytes extended by", n, base64.RawURLEncoding.EncodeToString(append(reset(), make([]byte, n)...)), ErrTokenMalformed)
				}
				// (Padded base64 of 105 bytes has no padding; the standard
				// alphabet's + and / are among the replaced characters.)

				// Fields taken from other valid tokens, not re-MACed: a site,
				// a page load, a time, a key id, a tier, a solution target…
				for p := 1; p <= forgeSwapPartners; p++ {
					other := &bases[(b+p)%len(bases)]
					for _, f := range tokenFields {
						copy(reset()[f.off:f.off+f.len], other.raw[f.off:])
						mutated(f.name+" of token", (b+p)%len(bases), base.raw)
					}
				}
				// Fields set to chosen values, not re-MACed.
				for v := range 256 {
					reset()[offVersion] = byte(v)
					mutated("version", v, base.raw)
					reset()[offKeyID] = byte(v)
					mutated("key id", v, base.raw)
					reset()[offTier] = byte(v)
					mutated("tier", v, base.raw)
				}
				iat := int64(binary.LittleEndian.Uint64(base.raw[offIssuedAt:]))
				for _, d := range []int64{1, -1, 30, -30, 60, 1800, -1800, 3600, 86400, -86400, 1 << 32, -iat} {
					binary.LittleEndian.PutUint64(reset()[offIssuedAt:], uint64(iat+d))
					mutated("issued at + seconds", int(d), base.raw)
				}
				for _, ttl := range []uint16{0, 1, 1799, 1801, 3600, 65535} {
					binary.LittleEndian.PutUint16(reset()[offTTL:], ttl)
					mutated("ttl", int(ttl), base.raw)
				}
				for _, m := range []uint32{0, 1, 1999, 2001, 20000, 200000, 1<<32 - 1} {
					binary.LittleEndian.PutUint32(reset()[offPowMax:], m)
					mutated("pow max", int(m), base.raw)
				}
				for _, f := range tokenFields[2:] {
					for _, fill := range []byte{0x00, 0xff} {
						r := reset()
						for j := f.off; j < f.off+f.len; j++ {
							r[j] = fill
						}
						mutated(f.name+" filled with", int(fill), base.raw)
					}
				}
				// Altered (the site and the time) and MACed with a wrong key.
				for _, wk := range wrongKeys {
					r := reset()
					r[offKeyID] = wk.id
					r[offSiteID] ^= 0x55
					binary.LittleEndian.PutUint64(r[offIssuedAt:], uint64(tokenT0().Unix()))
					check("re-MACed with "+wk.name, 0, resign(r, wk.key), wk.want)
				}
				// Random: whole tokens that reach the MAC (right version and
				// key id), random strings of the right length, of any length.
				for range 100 {
					r := reset()
					for j := range r {
						r[j] = byte(rng.Uint32())
					}
					r[offVersion], r[offKeyID] = tokenVersion, 32
					check("random bytes", 0, base64.RawURLEncoding.EncodeToString(r), ErrTokenBadMAC)
				}
				for range 60 {
					for j := range str {
						str[j] = base64URLAlphabet[rng.IntN(64)]
					}
					check("random string", 0, string(str), nil)
				}
				for range 20 {
					s := make([]byte, rng.IntN(300))
					for j := range s {
						s[j] = byte(rng.Uint32())
					}
					check("random length", len(s), string(s), nil)
				}
			}
		})
	}
	wg.Wait()

	total, reasons := 0, map[string]int{}
	for _, r := range results {
		total += r.total
		for reason, n := range r.reasons {
			reasons[reason] += n
		}
		for _, f := range r.fails {
			t.Error(f)
		}
	}
	if total < forgeMinimum {
		t.Errorf("%d forgeries, want at least %d", total, forgeMinimum)
	}
	var summary []string
	for reason, n := range reasons {
		summary = append(summary, fmt.Sprintf("%s %d", reason, n))
	}
	sort.Strings(summary)
	t.Logf("%d forgeries of %d tokens on %d goroutines in %v: %v", total, len(bases), workers, time.Since(start).Round(time.Millisecond), summary)
}
