package abuse

import (
	"encoding/binary"
	"math"
	"time"
)

// PageviewBursts finds visitors who load pages faster than people do:
// pageview_burst. It is a leaky bucket (the generic cell rate algorithm,
// one timestamp per visitor): a visitor may make Pageviews pageviews at
// once, and the allowance refills at Pageviews per Window. The pageview
// that overflows it is a burst, and so is every later one until the
// visitor has been quiet for a Window: a bot that keeps loading pages stays
// flagged, a person opening ten tabs at once is not flagged at all.
//
// Keys are the collector's visitor ids (a daily keyed hash of site, address
// and User-Agent). Several people behind one address with the same browser
// share an id, so a busy office can look like one fast visitor: the weight
// is moderate. A visitor is forgotten once its bucket has drained (at most
// two Windows after its last pageview). At the cap (MaxVisitors) a visitor
// not yet tracked is not flagged.
//
// It is safe for concurrent use; create it with NewPageviewBursts.
type PageviewBursts struct {
	interval  int64 // Window / Pageviews, ns: one pageview's share of the bucket
	window    int64 // ns
	pageviews int64
	now       func() time.Time
	// Values are the theoretical arrival times (Unix ns): when the bucket
	// will have drained.
	t *boundedTable[uint64, int64]
}

// NewPageviewBursts returns a PageviewBursts for cfg with the clock now (nil
// means time.Now). It panics on a configuration Validate refuses.
func NewPageviewBursts(cfg BurstConfig, now func() time.Time) *PageviewBursts {
	if err := cfg.Validate(); err != nil {
		panic("abuse: NewPageviewBursts: " + err.Error())
	}
	if now == nil {
		now = time.Now
	}
	return &PageviewBursts{
		interval:  int64(cfg.Window) / int64(cfg.Pageviews),
		window:    int64(cfg.Window),
		pageviews: int64(cfg.Pageviews),
		now:       now,
		t:         newBoundedTable[uint64](cfg.MaxVisitors, func(tat *int64, now int64) bool { return *tat <= now }),
	}
}

// Pageviews counts n pageviews of visitor (those of one batch) and reports
// whether the visitor is bursting: over its allowance with them. n = 0
// reports without counting.
func (b *PageviewBursts) Pageviews(visitor uint64, n int) bool {
	now := b.now().UnixNano()
	sh := b.t.shard(visitor)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	tat, ok := sh.m[visitor]
	if n <= 0 {
		return ok && tat-now > b.window
	}
	if !ok && !b.t.admit(sh, now, int64(time.Second)) {
		return false
	}
	// More than one over the allowance is a burst all the same; the cap
	// keeps the product small.
	tat = max(tat, now) + min(int64(n), b.pageviews+1)*b.interval
	if tat-now <= b.window {
		sh.m[visitor] = tat
		return false
	}
	// A burst fills the bucket to one Window beyond full: the visitor is
	// flagged until it has been quiet for a Window (and one pageview's
	// share), however it paces itself meanwhile.
	sh.m[visitor] = now + 2*b.window
	return true
}

// Sweep forgets the visitors whose bucket has drained, and returns how
// many. Call it every minute or so.
func (b *PageviewBursts) Sweep(now time.Time) int { return b.t.sweep(now.UnixNano()) }

// Len is the number of visitors tracked.
func (b *PageviewBursts) Len() int { return b.t.len() }

// PageLoadEvents counts the events of each page load, across its batches,
// for too_many_events: a person reading a page makes a handful of events
// (pageviews of a single-page app, clicks, engagement reports, vitals);
// the snippet stops at 200 under one token, and a page load past
// TooManyEvents is a script replaying or inventing events. It also counts
// interactions (events a person causes: clicks, custom events, later
// pageviews of a single-page app) for DwellConfig.WithoutInteraction,
// which judges the engagement report that usually comes in the last batch.
//
// Entries expire with the page load's token. At the cap (MaxPageLoads) a
// page load not yet tracked is judged by its batch alone; the replay window,
// whose default cap is the same, refuses new page loads first.
//
// It is safe for concurrent use; create it with NewPageLoadEvents.
type PageLoadEvents struct {
	tooMany uint32
	now     func() time.Time
	t       *boundedTable[[16]byte, pageLoadEntry]
}

// pageLoadEntry is 12 bytes.
type pageLoadEntry struct {
	events, interactions uint32
	exp                  uint32 // Unix seconds from which the token is expired
}

// PageLoadTally is what PageLoadEvents knows of a page load after a batch.
type PageLoadTally struct {
	Events       uint32 // events so far, this batch's included
	Interactions uint32 // interactions so far, this batch's included
	// TooMany: Events is over TooManyEvents (too_many_events).
	TooMany bool
}

// NewPageLoadEvents returns a PageLoadEvents for cfg with the clock now (nil
// means time.Now). It panics on a configuration Validate refuses.
func NewPageLoadEvents(cfg PageLoadConfig, now func() time.Time) *PageLoadEvents {
	if err := cfg.Validate(); err != nil {
		panic("abuse: NewPageLoadEvents: " + err.Error())
	}
	if now == nil {
		now = time.Now
	}
	return &PageLoadEvents{
		tooMany: uint32(cfg.TooManyEvents),
		now:     now,
		t:       newBoundedTable[[16]byte](cfg.MaxPageLoads, func(e *pageLoadEntry, now int64) bool { return int64(e.exp) <= now }),
	}
}

// Add counts a batch of the page load plid, whose token expires at expires
// (Claims.Expires): events is the number of events in it, interactions how
// many of them a person causes. It returns the page load's tally so far.
// Call it once per accepted batch, after the replay check.
func (p *PageLoadEvents) Add(plid [16]byte, events, interactions uint32, expires time.Time) PageLoadTally {
	now := p.now().Unix()
	exp := expires.Unix()
	if expires.Nanosecond() != 0 {
		exp++ // round up: the entry lives until the token has expired
	}
	exp = min(max(exp, 0), math.MaxUint32) // an expiry after 2106 is kept as 2106
	sh := p.t.shard(binary.LittleEndian.Uint64(plid[:8]))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[plid]
	if !ok && !p.t.admit(sh, now, 1) {
		return PageLoadTally{Events: events, Interactions: interactions, TooMany: events > p.tooMany}
	}
	e.events = satAdd32(e.events, events)
	e.interactions = satAdd32(e.interactions, interactions)
	e.exp = max(e.exp, uint32(exp))
	sh.m[plid] = e
	return PageLoadTally{Events: e.events, Interactions: e.interactions, TooMany: e.events > p.tooMany}
}

// Sweep forgets the page loads whose tokens have expired, and returns how
// many. Call it every minute or so.
func (p *PageLoadEvents) Sweep(now time.Time) int { return p.t.sweep(now.Unix()) }

// Len is the number of page loads tracked.
func (p *PageLoadEvents) Len() int { return p.t.len() }

// satAdd32 is a + b, or MaxUint32 if that overflows.
func satAdd32(a, b uint32) uint32 { return uint32(min(uint64(a)+uint64(b), math.MaxUint32)) }
