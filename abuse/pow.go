package abuse

import (
	"crypto/sha256"
	"encoding/binary"
)

// The proof of work of a page-load token: the issuer picks a secret n* in
// [0, PowMax] and writes target = SHA-256(plid ‖ le32(n*))[:16] into the
// token; the snippet finds n by trying 0, 1, 2, … (PowMax/2 + 1 hashes on
// average). One 20-byte message is one SHA-256 block, the same cost for the
// browser and the server.
//
// What it buys, and what it does not (see docs/security.md): native code
// hashes ~190× faster than a throttled phone, so it does not stop a bot; it
// makes every counted page load a round trip through the issuer and mass
// forgery cost CPU. Telling people from bots is the scorer's job.

// powMsgLen is the length of the hashed message: plid (16) ‖ le32(n) (4).
const powMsgLen = 16 + 4

// powTarget returns SHA-256(plid ‖ le32(n))[:16].
func powTarget(plid [16]byte, n uint32) [16]byte {
	var msg [powMsgLen]byte
	copy(msg[:16], plid[:])
	binary.LittleEndian.PutUint32(msg[16:], n)
	sum := sha256.Sum256(msg[:])
	return [16]byte(sum[:16])
}

// CheckPoW reports whether n solves the proof of work of the page load plid:
// n ≤ max and SHA-256(plid ‖ le32(n))[:16] == target. It does not allocate.
// The target is public, so the comparison need not be constant-time.
func CheckPoW(plid [16]byte, n uint32, target [16]byte, max uint32) bool {
	return n <= max && powTarget(plid, n) == target
}

// SolvePoW finds the solution of the token's proof of work by brute force,
// as the snippet does but natively (≈ 5 M hashes/s per core): for the load
// generator and tests. ok is false when no n ≤ c.PowMax hashes to the target
// (a token not made by an Issuer). A declared-bot token has no proof of work:
// SolvePoW returns 0, true and Verify ignores n.
func SolvePoW(c Claims) (n uint32, ok bool) {
	if c.Tier == TierDeclaredBot {
		return 0, true
	}
	var msg [powMsgLen]byte
	copy(msg[:16], c.PageLoadID[:])
	for n = 0; ; n++ {
		binary.LittleEndian.PutUint32(msg[16:], n)
		if sum := sha256.Sum256(msg[:]); [16]byte(sum[:16]) == c.PowTarget {
			return n, true
		}
		if n == c.PowMax { // before n++ can wrap at PowMax = MaxUint32
			return 0, false
		}
	}
}

// PowTarget is the target a client must hit with n: the first 16 bytes of
// SHA-256(plid ‖ le32(n)). The collector uses it to hand a declared bot,
// whose token carries no puzzle, a trivial one (n = 0) that the snippet's
// solver accepts, so the bot's events still arrive and are classified.
func PowTarget(plid [16]byte, n uint32) [16]byte { return powTarget(plid, n) }
