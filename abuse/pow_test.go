package abuse

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"testing"
)

// TestPowTargetGolden pins the hash the snippet computes too: SHA-256 of the
// 16-byte page-load id and the little-endian uint32 n, first 16 bytes.
func TestPowTargetGolden(t *testing.T) {
	t.Parallel()
	plid := [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	msg, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f" + "39300000") // n = 12345
	sum := sha256.Sum256(msg)
	if got := powTarget(plid, 12345); got != [16]byte(sum[:16]) {
		t.Errorf("powTarget = %x, want %x", got, sum[:16])
	}
	const golden = "cceb633f2a704570335f30227e65aaa0"
	if got := powTarget(plid, 12345); hex.EncodeToString(got[:]) != golden {
		t.Errorf("powTarget = %x, golden %s (the snippet's solver must change with it)", got, golden)
	}
}

func TestCheckPoW(t *testing.T) {
	t.Parallel()
	plid := [16]byte{0xaa, 15: 0x55}
	const secret = 1234
	target := refTarget(plid, secret)
	otherPLID := plid
	otherPLID[7] = 1
	for _, tc := range []struct {
		name   string
		plid   [16]byte
		n      uint32
		target [16]byte
		max    uint32
		want   bool
	}{
		{"solution", plid, secret, target, 2000, true},
		{"solution equal to max", plid, secret, target, secret, true},
		{"solution above max", plid, secret, target, secret - 1, false},
		{"n - 1", plid, secret - 1, target, 2000, false},
		{"n + 1", plid, secret + 1, target, 2000, false},
		{"0", plid, 0, target, 2000, false},
		{"2^32 - 1", plid, math.MaxUint32, target, math.MaxUint32, false},
		{"other page load", otherPLID, secret, target, 2000, false},
		{"other target", plid, secret, refTarget(plid, secret+1), 2000, false},
		{"zero target", plid, secret, [16]byte{}, 2000, false},
	} {
		if got := CheckPoW(tc.plid, tc.n, tc.target, tc.max); got != tc.want {
			t.Errorf("%s: CheckPoW = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSolvePoW(t *testing.T) {
	t.Parallel()
	plid := [16]byte{1, 2, 3}
	for _, tc := range []struct {
		name   string
		c      Claims
		wantN  uint32
		wantOK bool
	}{
		{"0", Claims{PageLoadID: plid, PowMax: 2000, PowTarget: refTarget(plid, 0)}, 0, true},
		{"max", Claims{PageLoadID: plid, PowMax: 2000, PowTarget: refTarget(plid, 2000)}, 2000, true},
		{"middle, high tier", Claims{PageLoadID: plid, PowMax: 200000, Tier: TierHigh, PowTarget: refTarget(plid, 123456)}, 123456, true},
		{"max 0", Claims{PageLoadID: plid, PowMax: 0, PowTarget: refTarget(plid, 0)}, 0, true},
		{"max 2^32-1 ends", Claims{PageLoadID: plid, PowMax: math.MaxUint32, PowTarget: refTarget(plid, 3)}, 3, true},
		{"above max", Claims{PageLoadID: plid, PowMax: 2000, PowTarget: refTarget(plid, 2001)}, 0, false},
		{"no solution", Claims{PageLoadID: plid, PowMax: 5000}, 0, false},
		{"declared bot", Claims{PageLoadID: plid, Tier: TierDeclaredBot}, 0, true},
	} {
		if n, ok := SolvePoW(tc.c); n != tc.wantN || ok != tc.wantOK {
			t.Errorf("%s: SolvePoW = %d, %v; want %d, %v", tc.name, n, ok, tc.wantN, tc.wantOK)
		}
	}
}

func TestCheckPoWDoesNotAllocate(t *testing.T) {
	plid, target := [16]byte{1}, refTarget([16]byte{1}, 7)
	if n := testing.AllocsPerRun(1000, func() { CheckPoW(plid, 7, target, 2000) }); n != 0 {
		t.Errorf("CheckPoW: %v allocations, want 0", n)
	}
}

func BenchmarkCheckPoW(b *testing.B) {
	plid := [16]byte{1, 2, 3}
	target := refTarget(plid, 1000)
	b.ReportAllocs()
	for b.Loop() {
		if !CheckPoW(plid, 1000, target, 2000) {
			b.Fatal("no")
		}
	}
}

// BenchmarkSolvePoWTier0 is what a native bot pays per page load at the
// normal tier: 1,001 hashes on average (ABUSE.md: ≈ 35 ms on a throttled
// phone in JavaScript).
func BenchmarkSolvePoWTier0(b *testing.B) {
	i := newTestIssuer(b, TokenConfig{}, newTestClock(tokenT0()).Now)
	claims := make([]Claims, 256)
	for j := range claims {
		_, claims[j] = mustIssue(b, i, testIssueRequest())
	}
	b.ReportAllocs()
	j := 0
	for b.Loop() {
		if _, ok := SolvePoW(claims[j%len(claims)]); !ok {
			b.Fatal("no solution")
		}
		j++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "solves/s")
}
