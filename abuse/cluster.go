package abuse

import (
	"encoding/binary"
	"time"
)

// Clusters finds bot farms by their sameness: many page loads of one site,
// from many different networks, all with the same fingerprint, within a
// Window: fingerprint_cluster. A farm rents addresses across many networks
// but runs identical machines; people's devices differ.
//
// The fingerprint is the caller's 64-bit hash of what the page load says
// about its machine: the whole User-Agent, screen width, language, time
// zone and the snippet's automation signals. The more it includes, the
// fewer real people share one; never hash fewer fields.
//
// The false-positive risk is popular devices: on a big site, hundreds of
// people with the same phone model, OS version, language and time zone
// arrive from hundreds of networks every few minutes. So a fingerprint is a
// cluster only when both hold within the Window:
//
//   - it came from more than Networks distinct networks (/24 or /48):
//     small sites cannot trigger it with a few visitors, and
//   - its page loads are at least MinSharePercent of the site's: one
//     machine type dominating the site's traffic. On a big site a popular
//     phone is a few percent; a farm that matters to the statistics is a
//     large share. A farm that is a small share of a big site's traffic
//     goes unflagged here (other signals may catch it).
//
// What remains: a newsletter or a social post can send a crowd of one
// popular phone to a small site at once. The signal weighs moderately for
// that reason, and per-site allow rules fix what it gets wrong.
//
// Memory: per (site, fingerprint) a count of page loads and up to 64
// networks with when each was last seen (the first two without an
// allocation, since most fingerprints come from one or two networks);
// beyond 64 live networks it only knows "64 or more". An entry is forgotten
// one to two Windows after its last page load. At the cap (MaxFingerprints)
// a new fingerprint is not tracked and not flagged: the alternative,
// flagging what it cannot measure, would hit real people.
//
// It is safe for concurrent use; create it with NewClusters.
type Clusters struct {
	networks, share int
	width           int64 // Window, seconds
	now             func() time.Time
	fps             *boundedTable[clusterKey, clusterEntry]
	sites           *boundedTable[[16]byte, slidingWindow] // page loads per site
}

type clusterKey struct {
	site [16]byte
	fp   uint64
}

// clusterMaxNetworks is how many networks one fingerprint's entry tracks.
const clusterMaxNetworks = 64

// clusterNet is one network of a fingerprint: the first 4 bytes of its
// keyed prefix hash (64 random 32-bit values collide with odds of about one
// in two million, and the key is secret, so no one can aim a collision) and
// when it was last seen. at == 0 is an empty slot.
type clusterNet struct {
	prefix uint32
	at     uint32 // Unix seconds
}

type clusterEntry struct {
	loads slidingWindow // page loads with this fingerprint
	first [2]clusterNet // the first networks, without an allocation
	more  []clusterNet  // the rest, up to clusterMaxNetworks-len(first)
}

// NewClusters returns a Clusters for cfg with the clock now (nil means
// time.Now). It panics on a configuration Validate refuses.
func NewClusters(cfg ClusterConfig, now func() time.Time) *Clusters {
	if err := cfg.Validate(); err != nil {
		panic("abuse: NewClusters: " + err.Error())
	}
	if now == nil {
		now = time.Now
	}
	width := int64(cfg.Window / time.Second)
	return &Clusters{
		networks: cfg.Networks,
		share:    cfg.MinSharePercent,
		width:    width,
		now:      now,
		fps: newBoundedTable[clusterKey](cfg.MaxFingerprints, func(e *clusterEntry, now int64) bool {
			return e.loads.scaled(now, width) == 0 // and so no network seen within the window
		}),
		sites: newBoundedTable[[16]byte](cfg.MaxFingerprints, func(w *slidingWindow, now int64) bool { return w.scaled(now, width) == 0 }),
	}
}

// Observe records one page load of site with fingerprint fp from the
// network prefix (a keyed hash of its /24 or /48, never an address), and
// reports whether fp is a cluster on site. Call it once per page load
// (with its first batch), so that the site's page loads are counted right.
func (c *Clusters) Observe(site [16]byte, fp uint64, prefix [8]byte) bool {
	if c.networks == 0 {
		return false
	}
	now := c.now().Unix()
	siteLoads, ok := c.countSite(site, now)
	if !ok {
		return false
	}
	key := clusterKey{site, fp}
	sh := c.fps.shard(fp ^ binary.LittleEndian.Uint64(site[:8]))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[key]
	if !ok && !c.fps.admit(sh, now, 1) {
		return false
	}
	e.loads.add(now, c.width, 1)
	nets := e.note(binary.LittleEndian.Uint32(prefix[:4]), now, c.width)
	sh.m[key] = e
	return c.clustered(nets, e.loads.scaled(now, c.width), siteLoads)
}

// Clustered reports whether fp is a cluster on site now, without recording
// a page load: for the later batches of a page load.
func (c *Clusters) Clustered(site [16]byte, fp uint64) bool {
	if c.networks == 0 {
		return false
	}
	now := c.now().Unix()
	sh := c.fps.shard(fp ^ binary.LittleEndian.Uint64(site[:8]))
	sh.mu.Lock()
	e, ok := sh.m[clusterKey{site, fp}]
	var nets int
	if ok {
		nets = e.live(now, c.width)
	}
	sh.mu.Unlock()
	if !ok {
		return false
	}
	ss := c.sites.shard(binary.LittleEndian.Uint64(site[:8]))
	ss.mu.Lock()
	w := ss.m[site]
	ss.mu.Unlock()
	return c.clustered(nets, e.loads.scaled(now, c.width), w.scaled(now, c.width))
}

// Sweep forgets the fingerprints and sites with no page load within the
// Window, and returns how many fingerprints. Call it every minute or so.
func (c *Clusters) Sweep(now time.Time) int {
	c.sites.sweep(now.Unix())
	return c.fps.sweep(now.Unix())
}

// Len is the number of (site, fingerprint) pairs tracked.
func (c *Clusters) Len() int { return c.fps.len() }

// clustered is the rule: more than Networks networks, and at least
// MinSharePercent of the site's page loads (both counts scaled alike).
func (c *Clusters) clustered(nets int, fpLoads, siteLoads uint64) bool {
	return nets > c.networks && fpLoads*100 >= uint64(c.share)*siteLoads
}

// countSite counts one page load of site and returns its page loads within
// the window (scaled); ok is false when the site cannot be tracked.
func (c *Clusters) countSite(site [16]byte, now int64) (loads uint64, ok bool) {
	sh := c.sites.shard(binary.LittleEndian.Uint64(site[:8]))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	w, ok := sh.m[site]
	if !ok && !c.sites.admit(sh, now, 1) {
		return 0, false
	}
	w.add(now, c.width, 1)
	sh.m[site] = w
	return w.scaled(now, c.width), true
}

// note records network p at now and returns how many distinct networks
// were seen within the width seconds before now. A network in an expired
// slot's place is new; with every slot live, p is not recorded and the
// count stays at clusterMaxNetworks.
func (e *clusterEntry) note(p uint32, now, width int64) int {
	at := uint32(now)
	live, found := 0, false
	var free *clusterNet
	for _, slots := range [2][]clusterNet{e.first[:], e.more} {
		for i := range slots {
			n := &slots[i]
			switch {
			case n.at != 0 && n.prefix == p:
				n.at, found = at, true
				live++
			case n.at != 0 && now-int64(n.at) < width:
				live++
			case free == nil:
				free = n
			}
		}
	}
	switch {
	case found:
		return live
	case free != nil:
		*free = clusterNet{prefix: p, at: at}
	case len(e.more) < clusterMaxNetworks-len(e.first):
		e.more = append(e.more, clusterNet{prefix: p, at: at})
	default:
		return live
	}
	return live + 1
}

// live is how many distinct networks were seen within the width seconds
// before now.
func (e *clusterEntry) live(now, width int64) int {
	live := 0
	for _, slots := range [2][]clusterNet{e.first[:], e.more} {
		for _, n := range slots {
			if n.at != 0 && now-int64(n.at) < width {
				live++
			}
		}
	}
	return live
}
