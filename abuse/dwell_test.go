package abuse

import "testing"

func TestDwellWithoutInteraction(t *testing.T) {
	t.Parallel()
	c := DefaultBehaviourConfig().Dwell // 30 min, scroll ≤ 25 %
	const min = 60_000
	for _, tc := range []struct {
		name         string
		ms           uint32
		scroll       uint8
		interactions uint32
		want         bool
	}{
		{"idle tab: 30 min visible, top of a long page, nothing clicked", 30 * min, 10, 0, true},
		{"never scrolled a page nine screens long", 45 * min, 11, 0, true},
		{"at the scroll limit", 30 * min, 25, 0, true},
		{"a day visible", 1440 * min, 0, 0, true},
		{"just under 30 min", 30*min - 1, 10, 0, false},
		{"scrolled past the first quarter", 30 * min, 26, 0, false},
		{"a short page (fits the screen: 100 %)", 60 * min, 100, 0, false},
		{"clicked something", 30 * min, 10, 1, false},
		{"a normal read", 3 * min, 80, 0, false},
		{"no engagement", 0, 0, 0, false},
	} {
		if got := c.WithoutInteraction(tc.ms, tc.scroll, tc.interactions); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
