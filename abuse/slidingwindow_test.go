package abuse

import (
	"math"
	"testing"
)

func TestSlidingWindow(t *testing.T) {
	t.Parallel()
	const width = 60
	base := int64(1_000_000 * width) // on a bucket boundary
	type step struct {
		at   int64  // seconds after base
		add  uint32 // events added at that time
		want uint64 // estimated count × width, after the add
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"one bucket", []step{{0, 5, 5 * width}, {59, 2, 7 * width}}},
		{"the previous bucket fades out", []step{{59, 10, 10 * width}, {60, 0, 10 * width}, {75, 0, 10 * 45}, {119, 0, 10 * 1}, {120, 0, 0}}},
		{"both buckets", []step{{30, 10, 10 * width}, {90, 4, 4*width + 10*30}}},
		{"a gap of two buckets empties it", []step{{0, 10, 10 * width}, {130, 1, width}}},
		{"a clock stepping back keeps the bucket", []step{{90, 3, 3 * width}, {30, 2, 5*width + 0}}},
		{"counts saturate", []step{{0, math.MaxUint32, math.MaxUint32 * width}, {1, 5, math.MaxUint32 * width}}},
	} {
		var w slidingWindow
		for i, s := range tc.steps {
			w.add(base+s.at, width, s.add)
			if got := w.scaled(base+s.at, width); got != s.want {
				t.Errorf("%s: step %d (+%ds): scaled %d, want %d", tc.name, i, s.at, got, s.want)
			}
		}
	}
	var w slidingWindow
	w.add(base, width, 30)
	if w.over(base, width, 30) || !w.over(base, width, 29) {
		t.Error("over: 30 is not over 30 but is over 29")
	}
}
