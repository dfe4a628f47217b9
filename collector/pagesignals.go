package collector

import (
	"sync"
	"time"
)

// pageSignals remembers each page load's automation signals, which the
// snippet sends only with its first batch, so that every later batch of the
// page load (the unload beacon included) is scored with them too. Entries
// expire with the page load's token. Per node, like the replay window.
type pageSignals struct {
	mu      sync.Mutex
	entries map[[16]byte]signalEntry
	max     int
}

type signalEntry struct {
	s       wireSignals
	expires time.Time
}

func newPageSignals(max int) *pageSignals {
	return &pageSignals{entries: map[[16]byte]signalEntry{}, max: max}
}

// remember stores the first batch's signals, or returns the stored ones for
// a later batch (nil when none were seen on this node).
func (p *pageSignals) remember(plid [16]byte, s *wireSignals, expires time.Time) *wireSignals {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s != nil {
		if len(p.entries) < p.max {
			p.entries[plid] = signalEntry{s: *s, expires: expires}
		}
		return s
	}
	if e, ok := p.entries[plid]; ok {
		return &e.s
	}
	return nil
}

// sweep forgets the signals of expired page loads.
func (p *pageSignals) sweep(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.entries {
		if now.After(e.expires) {
			delete(p.entries, k)
		}
	}
}
