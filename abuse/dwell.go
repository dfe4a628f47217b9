package abuse

import "time"

// WithoutInteraction reports dwell_no_interaction: one engagement
// report of at least MinVisible of visible time, a deepest scroll of at most
// MaxScrollPercent, and no interaction in the page load (interactions: the
// clicks, custom events and later single-page-app pageviews counted so far,
// PageLoadTally.Interactions). That is an automation tab left open to look
// like a reader: visible, untouched, for half an hour.
//
// engagementMS is the report's ms (visible time since the previous report,
// which ends when the tab is hidden, so one report is one unbroken visible
// stretch); scrollDepth is its scroll, the percentage of the page height
// that was ever on screen.
//
// Its limits, and why it weighs little: a person can leave a tab visible
// and walk away (a recipe while cooking, a second monitor), and the
// snippet sees no mouse or keyboard activity, only scrolling and clicks.
// And since the scroll counts what was on screen, a page shorter than
// 100/MaxScrollPercent screens (4 by default) reports more than
// MaxScrollPercent without any scrolling, so only long pages are judged.
func (c DwellConfig) WithoutInteraction(engagementMS uint32, scrollDepth uint8, interactions uint32) bool {
	return time.Duration(engagementMS)*time.Millisecond >= c.MinVisible &&
		int(scrollDepth) <= c.MaxScrollPercent && interactions == 0
}
