package abuse

import (
	"math"
	"net/netip"
	"testing"
	"time"
)

// fuzzTokens issues the seed tokens of the fuzz targets, one per tier and a
// second normal one, deterministically (a fixed clock and Rand), and returns
// them with their solutions. The fuzz function issues them again, so every
// worker process knows exactly which tokens the issuer made.
func fuzzTokens(t testing.TB, i *Issuer) map[string]uint32 {
	tokens := map[string]uint32{}
	for _, tier := range []Tier{TierNormal, TierElevated, TierHigh, TierDeclaredBot, TierNormal} {
		r := testIssueRequest()
		r.Tier = tier
		tok, c := mustIssue(t, i, r)
		tokens[tok] = mustSolve(t, c)
	}
	return tokens
}

// FuzzVerifyToken: Verify never panics, and accepts nothing but tokens the
// issuer made, with their own solution and the request they were issued to.
//
// Invariants, checked on every input:
//   - an error is one of the VerifyError sentinels, with a zero Verified;
//   - an accepted token is one of the issued tokens (whose MACs are the only
//     ones the issuer produced), and its claims, signed again by the issuer,
//     are exactly the token's bytes;
//   - an accepted token's claims bind the request: site, UA and Origin hash,
//     and the solution unless it is a declared bot's.
func FuzzVerifyToken(f *testing.F) {
	k := newTestKeyring(f, testMaster())
	newIssuer := func() *Issuer {
		return NewIssuer(k, TokenConfig{Rand: &seqReader{}}, newTestClock(tokenT0()).Now)
	}
	seeds := fuzzTokens(f, newIssuer())
	for tok, n := range seeds {
		f.Add(tok, n, testUA, testOrigin, uint8(0))
		f.Add(tok, n+1, testUA, testOrigin, uint8(1))
		f.Add(alterChar(tok, 50), n, testUA, testOrigin, uint8(0))
	}
	f.Add("", uint32(0), "", "", uint8(0))
	f.Add("AAAA", uint32(math.MaxUint32), testUA, "null", uint8(2))

	i := newIssuer()
	issued := fuzzTokens(f, i)
	sentinels := []error{ErrTokenMalformed, ErrTokenKeyUnknown, ErrTokenBadMAC, ErrTokenExpired, ErrTokenFromFuture,
		ErrTokenWrongSite, ErrTokenOriginMismatch, ErrTokenUAMismatch, ErrPowInvalid}

	f.Fuzz(func(t *testing.T, tok string, n uint32, ua, origin string, site uint8) {
		req := VerifyRequest{Token: tok, SiteID: testSiteID, ClientIP: netip.MustParseAddr("203.0.113.7"), UserAgent: ua, Origin: origin, PowN: n}
		req.SiteID[0] ^= site
		v, err := i.Verify(req)
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || err == s
			}
			if !known || v != (Verified{}) {
				t.Fatalf("Verify(%q) = %+v, %v; want zero and a sentinel", tok, v, err)
			}
			return
		}
		if _, ok := issued[tok]; !ok {
			t.Fatalf("Verify accepted %q, which the issuer never made: %+v", tok, v)
		}
		st := new(tokenState)
		st.sign(k, &v.Claims)
		if got := tokenEncoding.EncodeToString(st.raw[:]); got != tok {
			t.Fatalf("accepted %q, but its claims %+v sign to %q", tok, v.Claims, got)
		}
		switch {
		case v.SiteID != req.SiteID,
			v.UAHash != refStringHash(uaHashLabel, ua),
			v.OriginHash != refStringHash(originHashLabel, origin),
			v.Tier != TierDeclaredBot && (n != issued[tok] || !CheckPoW(v.PageLoadID, n, v.PowTarget, v.PowMax)):
			t.Fatalf("accepted %q for a request it does not bind: %+v, %+v", tok, req, v)
		}
	})
}

// FuzzDecodeToken: the decoder never panics, accepts only strings of
// exactly EncodedTokenLen characters in strict base64url with the right
// version, and is a bijection on what it accepts: the string and the claims
// round-trip exactly.
func FuzzDecodeToken(f *testing.F) {
	for tok := range fuzzTokens(f, NewIssuer(newTestKeyring(f, testMaster()), TokenConfig{Rand: &seqReader{}}, newTestClock(tokenT0()).Now)) {
		f.Add(tok)
		f.Add(tok[:EncodedTokenLen-1] + "=")
		f.Add("B" + tok[1:]) // version 5
	}
	f.Add("")
	f.Add("====")

	f.Fuzz(func(t *testing.T, s string) {
		st := new(tokenState)
		if !st.decode(s) {
			return
		}
		if len(s) != EncodedTokenLen || st.raw[offVersion] != tokenVersion {
			t.Fatalf("decode accepted %q: %d characters, version %d", s, len(s), st.raw[offVersion])
		}
		if got := tokenEncoding.EncodeToString(st.raw[:]); got != s {
			t.Fatalf("decode(%q) encodes back to %q: two strings for one token", s, got)
		}
		c := decodeClaims(&st.raw)
		var raw [TokenLen]byte
		encodeClaims(&raw, &c)
		copy(raw[offMAC:], st.raw[offMAC:])
		if raw != st.raw {
			t.Fatalf("claims of %q do not round-trip:\n got %x\nwant %x (%+v)", s, raw, st.raw, c)
		}
		if c.TTL%time.Second != 0 || c.TTL < 0 || c.TTL > MaxTokenTTL {
			t.Fatalf("decoded TTL %v out of range", c.TTL)
		}
	})
}
