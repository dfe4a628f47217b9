package abuse

import (
	"math/rand/v2"
	"sync"
)

// boundedTable is the store of the behaviour trackers (Velocity,
// PageviewBursts, PageLoadEvents, Clusters): a map split into independently
// locked shards, with a hard cap on its entries. It is written here rather than taken from
// a cache library (golang-lru and the like) because the trackers must not
// evict: forgetting a live entry would let a burst start over. Instead each
// tracker says when an entry is expired (equivalent to a fresh one, so
// forgetting it changes nothing), and decides for itself what a new key gets
// when its shard is full of live entries.
type boundedTable[K comparable, V any] struct {
	seed     uint64 // random per table, so that keys cannot be aimed at one shard
	perShard int
	expired  func(v *V, now int64) bool // now in the tracker's unit
	shards   []boundedShard[K, V]
}

type boundedShard[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]V
	// nextSweep is when a full shard may next sweep itself, so that a shard
	// full of live entries costs one scan a second, not one per request.
	nextSweep int64
	_         [40]byte // keeps shards' mutexes on separate cache lines
}

// maxTableShards is the number of shards of a table with room for at least
// as many entries.
const maxTableShards = 64

// newBoundedTable returns a table of at most max entries (max ≥ 1), split evenly
// between its shards.
func newBoundedTable[K comparable, V any](max int, expired func(v *V, now int64) bool) *boundedTable[K, V] {
	n := min(max, maxTableShards)
	t := &boundedTable[K, V]{seed: rand.Uint64(), perShard: max / n, expired: expired, shards: make([]boundedShard[K, V], n)}
	for i := range t.shards {
		// Maps grow as needed: a quiet node does not hold the maximum.
		t.shards[i].m = make(map[K]V)
	}
	return t
}

// shard is the shard of a key that hashes to h.
func (t *boundedTable[K, V]) shard(h uint64) *boundedShard[K, V] {
	return &t.shards[mix64(h^t.seed)%uint64(len(t.shards))]
}

// admit reports whether a key that is not in sh may be added at now: the
// shard has room, or sweeping its expired entries (at most once per
// sweepEvery) made some. Called with sh.mu held.
func (t *boundedTable[K, V]) admit(sh *boundedShard[K, V], now, sweepEvery int64) bool {
	if len(sh.m) < t.perShard {
		return true
	}
	if now >= sh.nextSweep {
		t.sweepShard(sh, now)
		sh.nextSweep = now + sweepEvery
	}
	return len(sh.m) < t.perShard
}

// sweep drops the expired entries of every shard and returns how many.
func (t *boundedTable[K, V]) sweep(now int64) int {
	dropped := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		dropped += t.sweepShard(sh, now)
		sh.mu.Unlock()
	}
	return dropped
}

// sweepShard drops sh's expired entries. Called with sh.mu held.
func (t *boundedTable[K, V]) sweepShard(sh *boundedShard[K, V], now int64) int {
	dropped := 0
	for k, v := range sh.m {
		if t.expired(&v, now) {
			delete(sh.m, k)
			dropped++
		}
	}
	return dropped
}

// len is the number of entries, expired ones not yet swept included.
func (t *boundedTable[K, V]) len() int {
	n := 0
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// mix64 is SplitMix64's finalizer: every bit of x affects every bit of the
// result, so nearby keys land in different shards.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}
