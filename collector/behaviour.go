package collector

import (
	"encoding/binary"
	"hash/maphash"
	"time"

	"github.com/verityhq/verity/abuse"
)

// behaviour holds the per-node trackers of the behaviour signals (abuse's
// velocity, bursts, events per page load, fingerprint clusters) and the
// thresholds of the stateless ones. Like the replay window, their state is
// per node: route by client address behind a load balancer.
type behaviour struct {
	cfg      abuse.BehaviourConfig
	velocity *abuse.Velocity
	bursts   *abuse.PageviewBursts
	loads    *abuse.PageLoadEvents
	clusters *abuse.Clusters
	seed     maphash.Seed
}

func newBehaviour(cfg abuse.BehaviourConfig, now func() time.Time) *behaviour {
	return &behaviour{
		cfg:      cfg,
		velocity: abuse.NewVelocity(cfg.Velocity, now),
		bursts:   abuse.NewPageviewBursts(cfg.Burst, now),
		loads:    abuse.NewPageLoadEvents(cfg.PageLoad, now),
		clusters: abuse.NewClusters(cfg.Cluster, now),
		seed:     maphash.MakeSeed(),
	}
}

func (b *behaviour) sweep(now time.Time) {
	b.velocity.Sweep(now)
	b.bursts.Sweep(now)
	b.loads.Sweep(now)
	b.clusters.Sweep(now)
}

// fingerprint hashes what makes one machine's page loads look alike: the
// whole User-Agent, the screen, language and time zone of its pageview and
// its automation signals. A farm's identical machines share one; people's
// differ in at least one field, mostly.
func (b *behaviour) fingerprint(ua string, pv *wireEvent, s *wireSignals) uint64 {
	var h maphash.Hash
	h.SetSeed(b.seed)
	h.WriteString(ua)
	h.WriteByte(0)
	var n [8]byte
	if pv != nil {
		binary.LittleEndian.PutUint64(n[:], uint64(pv.ScreenW))
		h.Write(n[:])
		h.WriteString(pv.Lang)
		h.WriteByte(0)
		h.WriteString(pv.TZ)
		h.WriteByte(0)
	}
	if s != nil {
		for _, w := range s.Win {
			binary.LittleEndian.PutUint64(n[:], uint64(w))
			h.Write(n[:])
		}
		binary.LittleEndian.PutUint64(n[:], uint64(s.Langs))
		h.Write(n[:])
		h.WriteString(s.Perm)
		flags := byte(0)
		if s.Webdriver {
			flags |= 1
		}
		if s.SoftGL {
			flags |= 2
		}
		h.WriteByte(flags)
	}
	return h.Sum64()
}

// batchCounts are what one batch adds to its page load's tally.
type batchCounts struct {
	events, pageviews, interactions uint32
	engagement                      *wireEvent // the last engagement report
	pageview                        *wireEvent // the first pageview
}

// countBatch counts a batch's events; clicks, custom events and pageviews
// after the landing one (SPA navigations) are interactions.
func countBatch(events []wireEvent, seq uint32) batchCounts {
	var c batchCounts
	for i := range events {
		e := &events[i]
		c.events++
		switch e.Type {
		case "pageview":
			c.pageviews++
			if c.pageview == nil {
				c.pageview = e
			}
			if seq > 1 || c.pageviews > 1 {
				c.interactions++
			}
		case "custom", "outbound", "download":
			c.interactions++
		case "engagement":
			c.engagement = e
		}
	}
	return c
}
