package abuse

// VerifyError is why a token or an event was refused. Reason is a stable,
// lowercase code for the rejection counters, logs and the JSON error body;
// it never contains request data, so it is safe to send to the client.
//
// Verify and ReplayGuard.Check return the sentinels below; compare with
// errors.Is (a VerifyError matches any VerifyError with the same Reason),
// or take the code with errors.As.
type VerifyError struct {
	Reason string
}

func (e *VerifyError) Error() string { return "abuse: rejected: " + e.Reason }

// Is makes errors.Is match on the reason code, so a VerifyError built
// elsewhere with the same Reason matches its sentinel.
func (e *VerifyError) Is(target error) bool {
	t, ok := target.(*VerifyError)
	return ok && t.Reason == e.Reason
}

// The rejections of Issuer.Verify, in the order it checks them.
var (
	// ErrTokenMalformed: wrong length, not strict unpadded base64url, an
	// unknown version, or (after a valid MAC, so never in practice) an
	// unknown tier.
	ErrTokenMalformed = &VerifyError{Reason: "token_malformed"}
	// ErrTokenKeyUnknown: the key id is neither today's nor yesterday's
	// (nor, within ClockSkew of midnight, tomorrow's).
	ErrTokenKeyUnknown = &VerifyError{Reason: "token_key_unknown"}
	// ErrTokenBadMAC: the MAC does not match: forged or altered.
	ErrTokenBadMAC = &VerifyError{Reason: "token_bad_mac"}
	// ErrTokenExpired: the token's TTL has passed. ReplayGuard.Check
	// returns it too for an expiry in the past.
	ErrTokenExpired = &VerifyError{Reason: "token_expired"}
	// ErrTokenFromFuture: issued more than ClockSkew after now.
	ErrTokenFromFuture = &VerifyError{Reason: "token_from_future"}
	// ErrTokenWrongSite: the token was issued for another site.
	ErrTokenWrongSite = &VerifyError{Reason: "token_wrong_site"}
	// ErrTokenOriginMismatch: the request's Origin is not the one the token
	// was issued to.
	ErrTokenOriginMismatch = &VerifyError{Reason: "token_origin_mismatch"}
	// ErrTokenUAMismatch: the request's User-Agent is not the one the token
	// was issued to.
	ErrTokenUAMismatch = &VerifyError{Reason: "token_ua_mismatch"}
	// ErrPowInvalid: the proof of work is above the token's maximum or does
	// not hash to its target.
	ErrPowInvalid = &VerifyError{Reason: "pow_invalid"}
)

// The rejections of ReplayGuard.Check (besides ErrTokenExpired).
var (
	// ErrReplay: this sequence number of the page load was seen before, or
	// is too far behind the highest one seen to tell (see ReplayWindow).
	ErrReplay = &VerifyError{Reason: "replay"}
	// ErrSeqLimit: the sequence number is above ReplayConfig.MaxSeq.
	ErrSeqLimit = &VerifyError{Reason: "seq_limit"}
	// ErrReplayFull: the guard tracks as many live page loads as it may and
	// refuses a new one rather than forget a live one. It is the server's
	// condition, not the client's fault: answer 503 with Retry-After.
	ErrReplayFull = &VerifyError{Reason: "replay_full"}
)
