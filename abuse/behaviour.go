package abuse

import (
	"errors"
	"fmt"
	"time"
)

// The behaviour signals: what a page load, a visitor, a network or a
// fingerprint does over time, as opposed to what one request says about
// itself. Each is a small type or function (docs/abuse.md explains them to
// clients):
//
//   - Velocity (velocity.go): page-load challenges per IP prefix. It sets
//     the adaptive proof-of-work tier (TierFor) and the score signal
//     issuance_velocity.
//   - PageviewBursts (burst.go): pageviews per visitor, pageview_burst.
//   - PageLoadEvents (burst.go): events per page load, too_many_events.
//   - Clusters (cluster.go): many networks sharing one fingerprint on a
//     site, fingerprint_cluster.
//   - DwellConfig.WithoutInteraction (dwell.go): a long visible dwell with
//     no scroll and no interaction, dwell_no_interaction.
//   - PowSpeedConfig.PoWTooFast and EventsTooSoon (powspeed.go): a proof
//     of work solved faster than a browser can, pow_too_fast and
//     events_too_soon.
//
// The stateful ones keep per-node memory, bounded by a hard cap, and take
// a clock (now) so tests control time. They are safe for concurrent use and
// do not allocate when they update an existing entry. The collector calls
// their Sweep every minute or so to forget expired entries; each also
// sweeps a full shard by itself (at most once a second) before applying its
// policy at the cap. Memory figures in the configuration are measured at a
// typical fill; a map that has just grown holds up to twice as much.
//
// State is per node: behind a load balancer that routes by client address,
// one network's and one visitor's requests meet the same node; otherwise
// each node sees a share and the thresholds act on it.

// BehaviourConfig holds the thresholds of every behaviour signal.
type BehaviourConfig struct {
	Velocity VelocityConfig `yaml:"velocity"`
	Burst    BurstConfig    `yaml:"burst"`
	PageLoad PageLoadConfig `yaml:"page_load"`
	Cluster  ClusterConfig  `yaml:"cluster"`
	Dwell    DwellConfig    `yaml:"dwell"`
	PowSpeed PowSpeedConfig `yaml:"pow_speed"`
}

// VelocityConfig tunes Velocity: page-load challenges per IP prefix (/24 or
// /48), counted over sliding windows of a minute and an hour. The
// collector's challenge_rate (429 above it, 120 a minute by default) is the
// hard limit; these thresholds, below it, raise the proof of work instead.
type VelocityConfig struct {
	// ElevatedPerMinute: more challenges than this in a minute raise the
	// prefix to TierElevated. Default 30.
	ElevatedPerMinute int `yaml:"elevated_per_minute"`
	// HighPerMinute: more than this in a minute raise it to TierHigh.
	// Default 90.
	HighPerMinute int `yaml:"high_per_minute"`
	// ElevatedPerHour: more than this in an hour raise it to TierElevated
	// (a steady 10 a minute). Default 600.
	ElevatedPerHour int `yaml:"elevated_per_hour"`
	// HighPerHour: more than this in an hour raise it to TierHigh (a steady
	// 50 a minute). Default 3000.
	HighPerHour int `yaml:"high_per_hour"`
	// DecayAfter is how long a prefix stays at a raised tier once its rate
	// has dropped below it; then it steps down one tier, and after as long
	// again another. Whole seconds, at least 1s. Default 10m.
	DecayAfter time.Duration `yaml:"decay_after"`
	// MaxPrefixes caps the prefixes tracked at once (≈ 65 bytes each,
	// measured, so ≈ 32 MB for the default; a prefix is kept for up to two
	// hours after its last challenge). At the cap, a prefix not yet tracked
	// gets TierElevated. Default 500000.
	MaxPrefixes int `yaml:"max_prefixes"`
}

// BurstConfig tunes PageviewBursts: more than Pageviews pageviews of one
// visitor at once, refilling at Pageviews per Window, is a burst.
type BurstConfig struct {
	// Pageviews is the most pageviews a visitor may make within Window.
	// Default 10.
	Pageviews int `yaml:"pageviews"`
	// Window is the span Pageviews are allowed in. At least 1s. Default 10s.
	Window time.Duration `yaml:"window"`
	// MaxVisitors caps the visitors tracked at once (≈ 25 bytes each,
	// measured; a visitor is kept for at most twice Window after its last
	// pageview). At the cap, a visitor not yet tracked is not flagged.
	// Default 200000.
	MaxVisitors int `yaml:"max_visitors"`
}

// PageLoadConfig tunes PageLoadEvents: events per page load.
type PageLoadConfig struct {
	// TooManyEvents: a page load that sent more events than this is flagged
	// (the snippet sends at most 200 under one token; a person rarely makes
	// 100). Default 120.
	TooManyEvents int `yaml:"too_many_events"`
	// MaxPageLoads caps the page loads tracked at once (≈ 40 bytes each,
	// measured; kept until their token expires). At the cap, a page load not yet
	// tracked is judged by its batch alone. Default 1000000, like the
	// replay window's.
	MaxPageLoads int `yaml:"max_page_loads"`
}

// ClusterConfig tunes Clusters: one fingerprint seen from many networks on
// a site within Window, the pattern of a bot farm (identical machines,
// many addresses). Popular real devices share fingerprints too (one phone
// model, one browser version, one language and time zone), so two
// conditions must both hold: more than Networks distinct networks, and at
// least MinSharePercent of the site's page loads in the window.
type ClusterConfig struct {
	// Networks: a fingerprint seen from more than this many distinct
	// networks (/24 or /48) within Window. 1 to 63 (64 networks are
	// tracked per fingerprint); 0 turns the signal off. Default 20.
	Networks int `yaml:"networks"`
	// MinSharePercent: and making up at least this percentage of the
	// site's page loads within Window, so that a popular phone on a big
	// site is not a farm. 0 to 100; 0 means the network count alone
	// decides. Default 25.
	MinSharePercent int `yaml:"min_share_percent"`
	// Window is the span networks are counted over. Whole seconds, at
	// least 1m. Default 10m.
	Window time.Duration `yaml:"window"`
	// MaxFingerprints caps the (site, fingerprint) pairs tracked at once
	// (≈ 115 bytes each, measured, ≈ 650 for one seen from 64 networks;
	// kept for one to two Windows after their last page load). At the cap, a new
	// fingerprint is not tracked (and not flagged). Default 200000.
	MaxFingerprints int `yaml:"max_fingerprints"`
}

// DwellConfig tunes DwellConfig.WithoutInteraction: a tab left visible for
// a long time and never scrolled, with nothing clicked.
type DwellConfig struct {
	// MinVisible: one engagement report of at least this much visible time.
	// At least 1m. Default 30m.
	MinVisible time.Duration `yaml:"min_visible"`
	// MaxScrollPercent: and a deepest scroll of at most this percentage of
	// the page height. The snippet counts what was on screen, so a page that
	// fits the screen reports 100 without a scroll: the signal can only
	// judge pages several screens long. 0 to 99. Default 25.
	MaxScrollPercent int `yaml:"max_scroll_percent"`
}

// PowSpeedConfig tunes PoWTooFast and EventsTooSoon: a proof of work solved
// faster than any browser running the snippet can.
type PowSpeedConfig struct {
	// MaxHashRate is the fastest believable rate, in hashes a second.
	// Measured: the snippet's pure-JS SHA-256 in Chromium ≈ 96,000/s (fast
	// desktops a few times that); native Go ≈ 5,400,000/s per core.
	// Default 1000000.
	MaxHashRate int `yaml:"max_hash_rate"`
	// MinHashes is the least work (n + 1 hashes) judged: smaller puzzles
	// take a browser too little time to tell from a coarse clock (Firefox's
	// resist-fingerprinting mode rounds to 16.7 ms, Tor Browser to 100 ms).
	// So the normal tier (PoW max 2,000) is never judged. Default 10000.
	MinHashes int `yaml:"min_hashes"`
}

// DefaultBehaviourConfig returns the documented defaults.
func DefaultBehaviourConfig() BehaviourConfig {
	return BehaviourConfig{
		Velocity: VelocityConfig{ElevatedPerMinute: 30, HighPerMinute: 90, ElevatedPerHour: 600, HighPerHour: 3000,
			DecayAfter: 10 * time.Minute, MaxPrefixes: 500_000},
		Burst:    BurstConfig{Pageviews: 10, Window: 10 * time.Second, MaxVisitors: 200_000},
		PageLoad: PageLoadConfig{TooManyEvents: 120, MaxPageLoads: 1_000_000},
		Cluster:  ClusterConfig{Networks: 20, MinSharePercent: 25, Window: 10 * time.Minute, MaxFingerprints: 200_000},
		Dwell:    DwellConfig{MinVisible: 30 * time.Minute, MaxScrollPercent: 25},
		PowSpeed: PowSpeedConfig{MaxHashRate: 1_000_000, MinHashes: 10_000},
	}
}

// Validate reports every problem at once.
func (c BehaviourConfig) Validate() error {
	return errors.Join(c.Velocity.Validate(), c.Burst.Validate(), c.PageLoad.Validate(),
		c.Cluster.Validate(), c.Dwell.Validate(), c.PowSpeed.Validate())
}

// maxCap bounds the caps: far beyond any node's memory, but it keeps a
// typo from meaning "unbounded".
const maxCap = 100_000_000

// configChecks collects a config's problems under its YAML path.
type configChecks struct {
	path string
	errs []error
}

func (c *configChecks) check(ok bool, field, want string) {
	if !ok {
		c.errs = append(c.errs, fmt.Errorf("behaviour.%s.%s: %s", c.path, field, want))
	}
}

func (c *configChecks) capacity(v int, field string) {
	c.check(v >= 1 && v <= maxCap, field, fmt.Sprintf("must be 1..%d", maxCap))
}

func (c *configChecks) seconds(d, least time.Duration, field string) {
	c.check(d >= least && d%time.Second == 0, field, "must be whole seconds, at least "+least.String())
}

func (c *configChecks) err() error { return errors.Join(c.errs...) }

// Validate reports every problem at once.
func (c VelocityConfig) Validate() error {
	v := configChecks{path: "velocity"}
	v.check(c.ElevatedPerMinute >= 1, "elevated_per_minute", "must be positive")
	v.check(c.HighPerMinute > c.ElevatedPerMinute, "high_per_minute", "must be more than elevated_per_minute")
	v.check(c.ElevatedPerHour >= 1, "elevated_per_hour", "must be positive")
	v.check(c.HighPerHour > c.ElevatedPerHour, "high_per_hour", "must be more than elevated_per_hour")
	v.seconds(c.DecayAfter, time.Second, "decay_after")
	v.capacity(c.MaxPrefixes, "max_prefixes")
	return v.err()
}

// Validate reports every problem at once.
func (c BurstConfig) Validate() error {
	v := configChecks{path: "burst"}
	v.check(c.Pageviews >= 1 && c.Pageviews <= 1_000_000, "pageviews", "must be 1..1000000")
	v.check(c.Window >= time.Second && c.Window <= 24*time.Hour, "window", "must be 1s..24h")
	v.capacity(c.MaxVisitors, "max_visitors")
	return v.err()
}

// Validate reports every problem at once.
func (c PageLoadConfig) Validate() error {
	v := configChecks{path: "page_load"}
	v.check(c.TooManyEvents >= 1 && c.TooManyEvents <= 1_000_000, "too_many_events", "must be 1..1000000")
	v.capacity(c.MaxPageLoads, "max_page_loads")
	return v.err()
}

// Validate reports every problem at once.
func (c ClusterConfig) Validate() error {
	v := configChecks{path: "cluster"}
	v.check(c.Networks >= 0 && c.Networks < clusterMaxNetworks, "networks", fmt.Sprintf("must be 0 (off) or 1..%d", clusterMaxNetworks-1))
	v.check(c.MinSharePercent >= 0 && c.MinSharePercent <= 100, "min_share_percent", "must be 0..100")
	v.seconds(c.Window, time.Minute, "window")
	v.check(c.Window <= 24*time.Hour, "window", "must be at most 24h")
	v.capacity(c.MaxFingerprints, "max_fingerprints")
	return v.err()
}

// Validate reports every problem at once.
func (c DwellConfig) Validate() error {
	v := configChecks{path: "dwell"}
	v.check(c.MinVisible >= time.Minute && c.MinVisible <= 1<<32*time.Millisecond, "min_visible", "must be 1m..1193h")
	v.check(c.MaxScrollPercent >= 0 && c.MaxScrollPercent <= 99, "max_scroll_percent", "must be 0..99")
	return v.err()
}

// Validate reports every problem at once.
func (c PowSpeedConfig) Validate() error {
	v := configChecks{path: "pow_speed"}
	v.check(c.MaxHashRate >= 1_000 && c.MaxHashRate <= 1_000_000_000, "max_hash_rate", "must be 1000..1000000000 hashes a second")
	v.check(c.MinHashes >= 1 && int64(c.MinHashes) <= 1<<32, "min_hashes", "must be 1..4294967296")
	return v.err()
}
