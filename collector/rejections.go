package collector

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// RejectionSink stores rejection counts; *storage.Store has it.
type RejectionSink interface {
	InsertRejections(ctx context.Context, rs []storage.Rejection) error
}

var _ RejectionSink = (*storage.Store)(nil)

type rejectionKey struct {
	site   uuid.UUID
	minute int64
	reason string
}

// rejections counts hard rejections per site, minute and reason in memory
// and writes the counts every few seconds: a flood of bad requests costs a
// map increment each, never a row each.
type rejections struct {
	mu     sync.Mutex
	counts map[rejectionKey]uint64
}

func newRejections() *rejections {
	return &rejections{counts: map[rejectionKey]uint64{}}
}

// inc counts one rejection. reason is one of the fixed codes, so the map
// stays small: sites × reasons × minutes since the last flush.
func (r *rejections) inc(site uuid.UUID, reason string, now time.Time) {
	k := rejectionKey{site: site, minute: now.Unix() / 60, reason: reason}
	r.mu.Lock()
	r.counts[k]++
	r.mu.Unlock()
}

// flush writes the counts and forgets them; on failure they are kept and
// added to the next flush (counts are sums, so merging is exact).
func (r *rejections) flush(ctx context.Context, sink RejectionSink) error {
	r.mu.Lock()
	counts := r.counts
	r.counts = map[rejectionKey]uint64{}
	r.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	rows := make([]storage.Rejection, 0, len(counts))
	for k, n := range counts {
		rows = append(rows, storage.Rejection{SiteID: k.site, Minute: time.Unix(k.minute*60, 0).UTC(), Reason: k.reason, Count: n})
	}
	if err := sink.InsertRejections(ctx, rows); err != nil {
		r.mu.Lock()
		for k, n := range counts {
			r.counts[k] += n
		}
		r.mu.Unlock()
		return err
	}
	return nil
}

// snapshot returns the unflushed counts, for metrics and tests.
func (r *rejections) snapshot() map[rejectionKey]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[rejectionKey]uint64, len(r.counts))
	for k, n := range r.counts {
		out[k] = n
	}
	return out
}
