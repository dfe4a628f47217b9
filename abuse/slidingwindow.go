package abuse

import "math"

// slidingWindow counts events over a sliding window of width seconds with two
// fixed buckets, the current and the previous one: the count over the last
// width seconds is estimated as current + previous × (the share of the
// previous bucket still inside the window). It is 12 bytes, exact for a
// steady rate and off by at most the previous bucket's unevenness for a
// bursty one, which for a threshold is close enough (the approximation
// Cloudflare's rate limiting uses).
//
// Times are Unix seconds; a clock that steps back keeps the current bucket.
type slidingWindow struct {
	idx  uint32 // the current bucket: Unix seconds / width
	cur  uint32 // events in the current bucket
	prev uint32 // events in the bucket before it
}

// add counts n events at now.
func (w *slidingWindow) add(now, width int64, n uint32) {
	idx := uint32(now / width)
	switch {
	case idx <= w.idx:
	case idx == w.idx+1:
		w.prev, w.cur = w.cur, 0
	default:
		w.prev, w.cur = 0, 0
	}
	w.idx = max(w.idx, idx)
	w.cur = uint32(min(uint64(w.cur)+uint64(n), math.MaxUint32))
}

// scaled is the estimated count over the width seconds before now,
// multiplied by width (to stay in integers).
func (w *slidingWindow) scaled(now, width int64) uint64 {
	idx := uint32(now / width)
	elapsed := uint64(now % width) // into the current bucket
	wd := uint64(width)
	switch {
	case idx <= w.idx:
		return uint64(w.cur)*wd + uint64(w.prev)*(wd-elapsed)
	case idx == w.idx+1:
		return uint64(w.cur) * (wd - elapsed)
	}
	return 0
}

// over reports whether the estimated count over the width seconds before
// now is more than limit.
func (w *slidingWindow) over(now, width int64, limit int) bool {
	return w.scaled(now, width) > uint64(limit)*uint64(width)
}
