package abuse

import "time"

// PoWTooFast reports pow_too_fast: the page load says it solved its proof of
// work, n + 1 hashes (the snippet tries 0, 1, … n), in solveMS milliseconds
// of hashing, faster than MaxHashRate, which no browser running the
// snippet reaches; native code does, 5 to 50 times over.
//
// solve_ms comes from the client, so a careful forger reports a believable
// time and goes unseen: the signal catches the careless ones (0 or a
// constant), and weighs accordingly. The browser's clock is coarse (the
// snippet rounds to whole ms; Firefox's resist-fingerprinting mode and Tor
// Browser round to 16.7–100 ms), so the time is granted one more ms than
// reported, and puzzles smaller than MinHashes are never judged: the
// normal tier's (at most 2,001 hashes, ≈ 10 ms in a browser) is too small
// to time. A negative solveMS, which no snippet sends, counts as 0.
func (c PowSpeedConfig) PoWTooFast(n uint32, solveMS int64) bool {
	hashes := int64(n) + 1
	if hashes < int64(c.MinHashes) {
		return false
	}
	// Too fast: hashes / (solveMS + 1 ms) > MaxHashRate, that is
	// solveMS + 1 < hashes·1000 / MaxHashRate, in integers without overflow
	// (hashes·1000 < 2^43).
	leastMS := ceilDiv(hashes*1000, int64(c.MaxHashRate)) // the fastest believable time, ms
	return max(solveMS, 0) < leastMS-1
}

// EventsTooSoon reports events_too_soon: the page load's first batch
// arrived sinceIssue after its challenge was issued, sooner than solving
// its proof of work (n + 1 hashes) takes at MaxHashRate. It is the server's
// own clock, so unlike PoWTooFast it cannot be talked around; the network
// round trip only adds time. Puzzles smaller than MinHashes are not judged
// (at the normal tier a browser needs a few ms, less than the round trip's
// jitter). sinceIssue must be measured precisely: a token's IssuedAt is
// whole seconds, which hides any difference under a second. A negative
// sinceIssue (another node's clock ahead) is never too soon.
func (c PowSpeedConfig) EventsTooSoon(n uint32, sinceIssue time.Duration) bool {
	hashes := int64(n) + 1
	if hashes < int64(c.MinHashes) || sinceIssue < 0 {
		return false
	}
	least := ceilDiv(hashes*int64(time.Second), int64(c.MaxHashRate)) // ns; hashes·10⁹ < 2^63
	return int64(sinceIssue) < least
}

// ceilDiv is ⌈a / b⌉ for a ≥ 0, b > 0.
func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }
