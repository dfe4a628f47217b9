package collector

import (
	"sync"
	"time"
)

// pageSignals remembers what one batch of a page load says about all of
// it: the automation signals, which the snippet sends only with its first
// batch, and the landing pageview's referrer and time zone verdicts. Every
// later batch of the page load (the unload beacon included) is scored with
// them too. Entries expire with the page load's token. Per node, like the
// replay window; at the cap, new page loads are scored batch by batch.
type pageSignals struct {
	mu      sync.Mutex
	entries map[[16]byte]signalEntry
	max     int
}

// pageFlags are page-load verdicts that, once seen, hold for the rest of
// the page load.
type pageFlags struct {
	referrerSpam bool
	timezoneFar  bool
	cluster      bool // its machine fingerprint was in a cluster
	tooSoon      bool // its first events came sooner than its proof of work takes
}

func (f pageFlags) or(g pageFlags) pageFlags {
	return pageFlags{referrerSpam: f.referrerSpam || g.referrerSpam, timezoneFar: f.timezoneFar || g.timezoneFar,
		cluster: f.cluster || g.cluster, tooSoon: f.tooSoon || g.tooSoon}
}

type signalEntry struct {
	s       *wireSignals
	flags   pageFlags
	issued  time.Time // when this node issued the token, to the nanosecond; zero if another did
	expires time.Time
}

func newPageSignals(max int) *pageSignals {
	return &pageSignals{entries: map[[16]byte]signalEntry{}, max: max}
}

// remember merges a batch's signals and flags into the page load's and
// returns the page load's: the first signals seen (nil when none were seen
// on this node) and every flag seen so far.
func (p *pageSignals) remember(plid [16]byte, s *wireSignals, f pageFlags, expires time.Time) (*wireSignals, pageFlags) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.entries[plid]
	if e.s == nil {
		e.s = s
	}
	e.flags = e.flags.or(f)
	if expires.After(e.expires) {
		e.expires = expires
	}
	if ok || len(p.entries) < p.max {
		p.entries[plid] = e
	}
	return e.s, e.flags
}

// issued notes when this node issued a page load's token: the token says
// it in whole seconds only.
func (p *pageSignals) issued(plid [16]byte, at, expires time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.entries) < p.max {
		p.entries[plid] = signalEntry{issued: at, expires: expires}
	}
}

// issuedAt is when this node issued the page load's token (zero when
// another node did, or the entry is gone).
func (p *pageSignals) issuedAt(plid [16]byte) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.entries[plid].issued
}

// sweep forgets expired page loads.
func (p *pageSignals) sweep(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.entries {
		if now.After(e.expires) {
			delete(p.entries, k)
		}
	}
}
