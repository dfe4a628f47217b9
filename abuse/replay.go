package abuse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ReplayWindow is how far behind the highest sequence number seen for a
// page load another one may arrive (out of order) and still be told apart
// from a replay. A sequence number further behind is refused as ErrReplay:
// too old to tell.
const ReplayWindow = 64

// Defaults of ReplayConfig.
const (
	DefaultReplayMaxPageLoads = 1_000_000
	DefaultReplayMaxSeq       = 1_000
	DefaultReplayShards       = 64
)

// ReplayConfig configures a ReplayGuard. The zero value means every default.
type ReplayConfig struct {
	// MaxPageLoads bounds the page loads tracked at once: 60–85 bytes each
	// with map overhead (measured), so at most ≈ 85 MB for the default
	// 1,000,000. A node needs about its page-load rate × the token TTL
	// (1,000,000 is 555 new page loads a second for 30 minutes). Zero means
	// the default.
	MaxPageLoads int
	// MaxSeq is the highest sequence number accepted in a page load: it caps
	// the events one token can carry. Zero means the default, 1,000.
	MaxSeq uint32
	// Shards is the number of independently locked maps (default 64). Each
	// holds at most MaxPageLoads/Shards page loads; page-load ids are random,
	// so they fill evenly.
	Shards int
}

func (c ReplayConfig) withDefaults() ReplayConfig {
	if c.MaxPageLoads == 0 {
		c.MaxPageLoads = DefaultReplayMaxPageLoads
	}
	if c.MaxSeq == 0 {
		c.MaxSeq = DefaultReplayMaxSeq
	}
	if c.Shards == 0 {
		c.Shards = DefaultReplayShards
	}
	return c
}

// Validate reports every problem of the configuration (after defaults) at
// once. NewReplayGuard panics on a configuration Validate refuses.
func (c ReplayConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Shards < 1 {
		errs = append(errs, fmt.Errorf("abuse: replay shards %d: need at least 1", c.Shards))
	}
	if c.MaxPageLoads < 1 {
		errs = append(errs, fmt.Errorf("abuse: replay max page loads %d: need at least 1", c.MaxPageLoads))
	} else if c.Shards >= 1 && c.MaxPageLoads < c.Shards {
		errs = append(errs, fmt.Errorf("abuse: replay max page loads %d is fewer than its %d shards", c.MaxPageLoads, c.Shards))
	}
	return errors.Join(errs...)
}

// ReplayGuard refuses events sent twice to this node. For each live page
// load it keeps the highest sequence number seen and a bitmap of the
// ReplayWindow numbers below it (the IPsec/DTLS anti-replay window), until
// the page load's token expires.
//
// It is per node and in memory: across nodes, restarts and retries of a
// failed insert, the deterministic EventID lets ClickHouse and the writer
// count a re-sent event once. The guard stops the cheap replays early.
//
// Memory is bounded by MaxPageLoads. When a shard is full it first drops
// the page loads whose tokens have expired; if none has, it refuses the new
// page load (ErrReplayFull) rather than forget a live one, since forgetting
// would let every event of that page load be replayed. A full guard means
// more live page loads than configured: the collector answers 503 with
// Retry-After, and the operator raises MaxPageLoads.
//
// A ReplayGuard is safe for concurrent use; create it with NewReplayGuard.
type ReplayGuard struct {
	now      func() time.Time
	maxSeq   uint32
	perShard int // page loads per shard
	shards   []replayShard
}

type replayShard struct {
	mu sync.Mutex
	m  map[[16]byte]replayEntry
	// minExp is at most the earliest expiry in m (math.MaxInt64 when empty):
	// while the clock is before it nothing can be swept, so a full shard
	// refuses without scanning. Expiries are whole seconds, so a full
	// shard is scanned at most once a second.
	minExp int64
	_      [40]byte // keeps shards' mutexes on separate cache lines
}

// replayEntry is 16 bytes (with its 16-byte key, a 32-byte map slot).
type replayEntry struct {
	seen uint64 // bit d-1 set: sequence number high-d was seen (d = 1…64)
	exp  uint32 // Unix seconds from which the token is expired (until 2106)
	high uint32 // the highest sequence number seen (seen, by definition)
}

// NewReplayGuard returns a ReplayGuard for cfg (zero fields take their
// defaults) with the clock now (nil means time.Now). It panics on a
// configuration Validate refuses.
func NewReplayGuard(cfg ReplayConfig, now func() time.Time) *ReplayGuard {
	if err := cfg.Validate(); err != nil {
		panic("abuse: NewReplayGuard: " + err.Error())
	}
	cfg = cfg.withDefaults()
	if now == nil {
		now = time.Now
	}
	g := &ReplayGuard{
		now:      now,
		maxSeq:   cfg.MaxSeq,
		perShard: cfg.MaxPageLoads / cfg.Shards,
		shards:   make([]replayShard, cfg.Shards),
	}
	for i := range g.shards {
		// Maps grow as needed: a quiet node does not hold the maximum.
		g.shards[i].m = make(map[[16]byte]replayEntry)
		g.shards[i].minExp = math.MaxInt64
	}
	return g
}

// Check records sequence number seq of the page load plid, whose token
// expires at expires (Claims.Expires), and reports whether it is new:
//
//   - ErrSeqLimit: seq is above MaxSeq;
//   - ErrTokenExpired: expires is not in the future;
//   - ErrReplay: seq was seen, or is more than ReplayWindow behind the
//     highest seen;
//   - ErrReplayFull: a new page load, and no room (see ReplayGuard);
//   - nil: first time seen; it is now recorded.
//
// Call it after Issuer.Verify, once per sequenced event. A refused number
// is not recorded.
func (g *ReplayGuard) Check(plid [16]byte, seq uint32, expires time.Time) error {
	if seq > g.maxSeq {
		return ErrSeqLimit
	}
	now := g.now().Unix()
	exp := expires.Unix()
	if expires.Nanosecond() != 0 {
		exp++ // round up: the entry lives until the token has expired
	}
	if exp <= now {
		return ErrTokenExpired
	}
	exp = min(exp, math.MaxUint32) // an expiry after 2106 is kept as 2106

	sh := &g.shards[binary.LittleEndian.Uint32(plid[:4])%uint32(len(g.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[plid]
	if !ok {
		if len(sh.m) >= g.perShard {
			if now >= sh.minExp {
				sh.sweep(now)
			}
			if len(sh.m) >= g.perShard {
				return ErrReplayFull
			}
		}
		sh.m[plid] = replayEntry{high: seq, exp: uint32(exp)}
		sh.minExp = min(sh.minExp, exp)
		return nil
	}

	switch {
	case seq > e.high:
		// Slide: the old high moves to distance d; numbers more than 64
		// behind the new high fall out (Go shifts of 64 or more give 0).
		d := seq - e.high
		e.seen = e.seen<<d | 1<<(d-1)
		e.high = seq
	case seq == e.high:
		return ErrReplay
	default:
		d := e.high - seq
		if d > ReplayWindow || e.seen&(1<<(d-1)) != 0 {
			return ErrReplay
		}
		e.seen |= 1 << (d - 1)
	}
	// A page load's expiry is fixed by its token; keep the later one should
	// a caller pass another, so the entry never goes before its token.
	e.exp = max(e.exp, uint32(exp))
	sh.m[plid] = e
	return nil
}

// Sweep drops the page loads whose tokens have expired. Check does it by
// itself when a shard is full; calling Sweep now and then (every minute,
// say) keeps Len meaningful for metrics. It returns how many it dropped.
func (g *ReplayGuard) Sweep() int {
	now := g.now().Unix()
	dropped := 0
	for i := range g.shards {
		sh := &g.shards[i]
		sh.mu.Lock()
		dropped += sh.sweep(now)
		sh.mu.Unlock()
	}
	return dropped
}

// Len is the number of page loads tracked, expired ones not yet swept
// included.
func (g *ReplayGuard) Len() int {
	n := 0
	for i := range g.shards {
		sh := &g.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// sweep deletes the entries expired at now (Unix seconds) and recomputes
// minExp. Called with sh.mu held.
func (sh *replayShard) sweep(now int64) int {
	dropped := 0
	minExp := int64(math.MaxInt64)
	for plid, e := range sh.m {
		if int64(e.exp) <= now {
			delete(sh.m, plid)
			dropped++
		} else {
			minExp = min(minExp, int64(e.exp))
		}
	}
	sh.minExp = minExp
	return dropped
}
