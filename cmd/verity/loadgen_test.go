package main

import (
	"strings"
	"testing"
)

func TestLoadgenUsageErrors(t *testing.T) {
	c := &cli{t: t, env: map[string]string{"VERITY_CLICKHOUSE_ADDR": "127.0.0.1:1"}}
	for _, args := range [][]string{
		{"loadgen"}, // no --site
		{"loadgen", "--site", "pk_x", "--mix", "bot=2"},
		{"loadgen", "--site", "pk_x", "--mix", "spam=0.1"},
		{"loadgen", "--site", "pk_x", "--rate", "fast"},
		{"loadgen", "--site", "pk_x", "--rate", "70%"}, // a share needs --baseline
		{"loadgen", "--site", "pk_x", "extra"},
	} {
		if _, _, err := c.run("", args...); !isUsage(err) {
			t.Errorf("verity %s: err = %v, want a usage error (exit 2)", strings.Join(args, " "), err)
		}
	}
}

// The site is looked up in ClickHouse before any traffic is sent.
func TestLoadgenUnknownSite(t *testing.T) {
	c := newCLI(t)
	c.mustRun("", "migrate")
	_, _, err := c.run("", "loadgen", "--site", "pk_nothing", "--url", "http://127.0.0.1:1", "--duration", "1s")
	if err == nil || isUsage(err) || !strings.Contains(err.Error(), `no site with key, id or domain "pk_nothing"`) {
		t.Fatalf("err = %v, want the unknown site named", err)
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in          string
		rate, share float64
		ok          bool
	}{
		{"0", 0, 0, true}, {"2500", 2500, 0, true}, {"70%", 0, 0.7, true}, {"150%", 0, 1.5, true},
		{"-1", 0, 0, false}, {"0%", 0, 0, false}, {"x%", 0, 0, false}, {"", 0, 0, false},
	} {
		r, s, err := parseRate(tc.in)
		if (err == nil) != tc.ok || r != tc.rate || s != tc.share {
			t.Errorf("parseRate(%q) = %v, %v, %v; want %v, %v, ok %v", tc.in, r, s, err, tc.rate, tc.share, tc.ok)
		}
	}
}
