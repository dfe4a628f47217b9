package loadgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Mix is the share of page loads that are not plain human visits (each
// 0..1, together at most 1).
type Mix struct {
	Bot    float64 `json:"bot"`    // automation: headless Chromium, or a declared crawler
	Replay float64 `json:"replay"` // re-send an accepted batch: refused as a replay
	Forge  float64 `json:"forge"`  // a token with a tampered signature: refused
}

// ParseMix reads "bot=0.1,replay=2%,forge=0.01"; "" is all human.
func ParseMix(s string) (Mix, error) {
	var m Mix
	if strings.TrimSpace(s) == "" {
		return m, nil
	}
	for part := range strings.SplitSeq(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return m, fmt.Errorf("--mix %q: want name=share, e.g. bot=0.1,replay=2%%", part)
		}
		share, err := parseShare(val)
		if err != nil {
			return m, fmt.Errorf("--mix %s: %w", name, err)
		}
		switch strings.TrimSpace(name) {
		case "bot":
			m.Bot = share
		case "replay":
			m.Replay = share
		case "forge":
			m.Forge = share
		default:
			return m, fmt.Errorf("--mix: unknown kind %q (want bot, replay, forge)", name)
		}
	}
	if m.Bot+m.Replay+m.Forge > 1 {
		return m, fmt.Errorf("--mix %q: the shares add up to more than 1", s)
	}
	return m, nil
}

// parseShare reads "0.25" or "25%".
func parseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = t, 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f/scale < 0 || f/scale > 1 {
		return 0, fmt.Errorf("%q: want a share between 0 and 1 (or 0%% and 100%%)", s)
	}
	return f / scale, nil
}

// Page-load kinds.
const (
	kindHuman  = "human"
	kindBot    = "bot"
	kindReplay = "replay"
	kindForge  = "forge"
)

// pick draws a page load's kind.
func (m Mix) pick(rng *rand.Rand) string {
	x := rng.Float64()
	switch {
	case x < m.Bot:
		return kindBot
	case x < m.Bot+m.Replay:
		return kindReplay
	case x < m.Bot+m.Replay+m.Forge:
		return kindForge
	}
	return kindHuman
}
