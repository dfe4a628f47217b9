package abuse

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestBehaviourConfigDefaultsValid(t *testing.T) {
	t.Parallel()
	if err := DefaultBehaviourConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestBehaviourConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		mut  func(*BehaviourConfig)
		want []string // every one of these, and nothing else
	}{
		{"velocity thresholds out of order", func(c *BehaviourConfig) {
			c.Velocity.HighPerMinute = c.Velocity.ElevatedPerMinute
			c.Velocity.HighPerHour = 1
		}, []string{"behaviour.velocity.high_per_minute: must be more than elevated_per_minute",
			"behaviour.velocity.high_per_hour: must be more than elevated_per_hour"}},
		{"velocity zero", func(c *BehaviourConfig) { c.Velocity = VelocityConfig{} }, []string{
			"behaviour.velocity.elevated_per_minute: must be positive", "behaviour.velocity.high_per_minute",
			"behaviour.velocity.elevated_per_hour: must be positive", "behaviour.velocity.high_per_hour",
			"behaviour.velocity.decay_after: must be whole seconds, at least 1s", "behaviour.velocity.max_prefixes: must be 1..100000000"}},
		{"fractional decay", func(c *BehaviourConfig) { c.Velocity.DecayAfter = 1500 * time.Millisecond },
			[]string{"behaviour.velocity.decay_after"}},
		{"burst", func(c *BehaviourConfig) {
			c.Burst = BurstConfig{Pageviews: 0, Window: time.Millisecond, MaxVisitors: maxCap + 1}
		},
			[]string{"behaviour.burst.pageviews", "behaviour.burst.window: must be 1s..24h", "behaviour.burst.max_visitors"}},
		{"page load", func(c *BehaviourConfig) { c.PageLoad = PageLoadConfig{TooManyEvents: -1} },
			[]string{"behaviour.page_load.too_many_events", "behaviour.page_load.max_page_loads"}},
		{"cluster", func(c *BehaviourConfig) {
			c.Cluster = ClusterConfig{Networks: 64, MinSharePercent: 101, Window: 30 * time.Second, MaxFingerprints: 0}
		}, []string{"behaviour.cluster.networks: must be 0 (off) or 1..63", "behaviour.cluster.min_share_percent: must be 0..100",
			"behaviour.cluster.window: must be whole seconds, at least 1m0s", "behaviour.cluster.max_fingerprints"}},
		{"cluster off is fine", func(c *BehaviourConfig) { c.Cluster.Networks = 0; c.Cluster.MinSharePercent = 0 }, nil},
		{"dwell", func(c *BehaviourConfig) { c.Dwell = DwellConfig{MinVisible: time.Second, MaxScrollPercent: 100} },
			[]string{"behaviour.dwell.min_visible", "behaviour.dwell.max_scroll_percent: must be 0..99"}},
		{"pow speed", func(c *BehaviourConfig) { c.PowSpeed = PowSpeedConfig{MaxHashRate: 999, MinHashes: 0} },
			[]string{"behaviour.pow_speed.max_hash_rate", "behaviour.pow_speed.min_hashes"}},
	} {
		cfg := DefaultBehaviourConfig()
		tc.mut(&cfg)
		err := cfg.Validate()
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: valid", tc.name)
			continue
		}
		lines := strings.Split(err.Error(), "\n")
		if len(lines) != len(tc.want) {
			t.Errorf("%s: %d problems, want %d:\n%v", tc.name, len(lines), len(tc.want), err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q missing from:\n%v", tc.name, w, err)
			}
		}
	}
}

// TestBehaviourConfigConstructorsPanic: a constructor refuses what Validate
// refuses, naming the problem.
func TestBehaviourConfigConstructorsPanic(t *testing.T) {
	t.Parallel()
	clk := newTestClock(tokenT0())
	for name, f := range map[string]func(){
		"NewVelocity":       func() { NewVelocity(VelocityConfig{}, clk.Now) },
		"NewPageviewBursts": func() { NewPageviewBursts(BurstConfig{}, clk.Now) },
		"NewPageLoadEvents": func() { NewPageLoadEvents(PageLoadConfig{}, clk.Now) },
		"NewClusters":       func() { NewClusters(ClusterConfig{}, clk.Now) },
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "abuse: "+name+": behaviour.") {
					t.Errorf("%s: panic %v", name, r)
				}
			}()
			f()
		}()
	}
}

// TestBehaviourConfigYAML: every option has a snake_case name and the
// defaults survive a round trip through YAML (durations as text).
func TestBehaviourConfigYAML(t *testing.T) {
	t.Parallel()
	b, err := yaml.Marshal(DefaultBehaviourConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"velocity:", "elevated_per_minute: 30", "decay_after: 10m0s", "burst:", "window: 10s",
		"page_load:", "too_many_events: 120", "cluster:", "min_share_percent: 25", "dwell:", "min_visible: 30m0s",
		"pow_speed:", "max_hash_rate: 1000000", "min_hashes: 10000"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("YAML lacks %q:\n%s", want, b)
		}
	}
	var back BehaviourConfig
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	if back != DefaultBehaviourConfig() {
		t.Errorf("round trip: %+v", back)
	}
}
