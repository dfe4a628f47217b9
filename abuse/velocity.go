package abuse

import (
	"encoding/binary"
	"time"
)

// Velocity counts page-load challenges (token issuances) per IP prefix and
// turns the rate into proof-of-work pressure, the adaptive part of the
// tier (TierFor adds the network's class):
//
//   - more than ElevatedPerMinute challenges in a minute, or ElevatedPerHour
//     in an hour → TierElevated; more than HighPerMinute or HighPerHour →
//     TierHigh. Counts are sliding windows (see slidingWindow), so escalation is
//     immediate: the challenge that crosses a threshold already gets the
//     higher tier.
//   - Decay is gradual: once the rate is below a prefix's tier, the prefix
//     keeps it for DecayAfter, then steps down one tier, and after as long
//     again another. A burst cannot reset itself by pausing for a minute,
//     and the hour windows remember a long campaign anyway.
//
// The pressure is also the score signal issuance_velocity: a page load
// whose prefix is at TierElevated or above (Pressure) came from a network
// minting page loads faster than people do. Offices, schools and mobile
// carriers put many people behind one prefix, so it weighs little; it
// mostly costs a busy network more proof of work.
//
// Keys are opaque: the caller passes a keyed hash of the /24 or /48 (such
// as the token's IP-prefix hash), never an address. A prefix is forgotten
// once both windows are empty and its tier has decayed to normal (up to two
// hours after its last challenge). At the cap (MaxPrefixes) a prefix not
// yet tracked is not counted and gets TierElevated: a node that sees more
// networks than it can track is under a spread-out attack or undersized,
// and making unknown networks pay a little more (≈ 20,000 hashes, a few
// hundred ms on a phone) is safer than letting them through unmeasured.
//
// It is safe for concurrent use; create it with NewVelocity.
type Velocity struct {
	cfg   VelocityConfig
	decay int64 // DecayAfter in seconds
	now   func() time.Time
	t     *boundedTable[[8]byte, velocityEntry]
}

// velocityEntry is 32 bytes.
type velocityEntry struct {
	minute, hour slidingWindow
	// hot is when the rate last justified peak (Unix seconds); the tier
	// decays from peak one step per DecayAfter after it.
	hot  uint32
	peak Tier
}

const (
	minuteSeconds = 60
	hourSeconds   = 3600
)

// NewVelocity returns a Velocity for cfg with the clock now (nil means
// time.Now). It panics on a configuration Validate refuses.
func NewVelocity(cfg VelocityConfig, now func() time.Time) *Velocity {
	if err := cfg.Validate(); err != nil {
		panic("abuse: NewVelocity: " + err.Error())
	}
	if now == nil {
		now = time.Now
	}
	v := &Velocity{cfg: cfg, decay: int64(cfg.DecayAfter / time.Second), now: now}
	v.t = newBoundedTable[[8]byte](cfg.MaxPrefixes, func(e *velocityEntry, now int64) bool {
		return e.minute.scaled(now, minuteSeconds) == 0 && e.hour.scaled(now, hourSeconds) == 0 &&
			v.decayed(e, now) == TierNormal
	})
	return v
}

// Issue counts one challenge from prefix and returns its pressure: the tier
// its rate calls for, this challenge included.
func (v *Velocity) Issue(prefix [8]byte) Tier {
	now := v.now().Unix()
	sh := v.t.shard(binary.LittleEndian.Uint64(prefix[:]))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[prefix]
	if !ok && !v.t.admit(sh, now, 1) {
		return TierElevated
	}
	e.minute.add(now, minuteSeconds, 1)
	e.hour.add(now, hourSeconds, 1)
	rate, decayed := v.rateTier(&e, now), v.decayed(&e, now)
	if rate >= decayed {
		e.peak, e.hot = rate, uint32(now)
	}
	sh.m[prefix] = e
	return max(rate, decayed)
}

// Pressure returns prefix's current tier without counting a challenge:
// TierNormal for a prefix not tracked. issuance_velocity is Pressure ≥
// TierElevated.
func (v *Velocity) Pressure(prefix [8]byte) Tier {
	now := v.now().Unix()
	sh := v.t.shard(binary.LittleEndian.Uint64(prefix[:]))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[prefix]
	if !ok {
		return TierNormal
	}
	return max(v.rateTier(&e, now), v.decayed(&e, now))
}

// Sweep forgets the prefixes that are back to normal with empty windows,
// and returns how many. Call it every minute or so.
func (v *Velocity) Sweep(now time.Time) int { return v.t.sweep(now.Unix()) }

// Len is the number of prefixes tracked.
func (v *Velocity) Len() int { return v.t.len() }

// rateTier is the tier e's windows call for at now.
func (v *Velocity) rateTier(e *velocityEntry, now int64) Tier {
	c := &v.cfg
	switch {
	case e.minute.over(now, minuteSeconds, c.HighPerMinute) || e.hour.over(now, hourSeconds, c.HighPerHour):
		return TierHigh
	case e.minute.over(now, minuteSeconds, c.ElevatedPerMinute) || e.hour.over(now, hourSeconds, c.ElevatedPerHour):
		return TierElevated
	}
	return TierNormal
}

// decayed is e's peak less one tier per whole DecayAfter since hot.
func (v *Velocity) decayed(e *velocityEntry, now int64) Tier {
	steps := max(0, now-int64(e.hot)) / v.decay
	if steps >= int64(e.peak) {
		return TierNormal
	}
	return e.peak - Tier(steps)
}

// MaxTier is the higher of two proof-of-work tiers (TierNormal, TierElevated,
// TierHigh). TierDeclaredBot is not a level of work: the collector picks it
// for declared crawlers before asking for a tier, and MaxTier keeps it.
func MaxTier(a, b Tier) Tier { return max(a, b) }

// NetworkTier is the proof-of-work tier a network's class calls for: Tor
// exits and public proxies TierHigh; hosting providers, VPNs and
// residential proxy networks TierElevated; anything else TierNormal.
// Residential proxies (home connections rented out, often unknowingly)
// are a favourite of bot farms; the odd real person behind one pays a few
// hundred milliseconds more.
func NetworkTier(n NetClass) Tier {
	switch {
	case n.Tor || n.PublicProxy:
		return TierHigh
	case n.Hosting || n.VPN || n.ResidentialProxy:
		return TierElevated
	}
	return TierNormal
}

// TierFor is the tier of a new page load: the higher of its network's
// (NetworkTier) and its prefix's issuance pressure (Velocity.Issue).
func TierFor(net NetClass, pressure Tier) Tier { return MaxTier(NetworkTier(net), pressure) }
