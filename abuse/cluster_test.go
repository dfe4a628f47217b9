package abuse

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"
)

func newTestClusters(t testing.TB, clk *testClock, mut func(*ClusterConfig)) *Clusters {
	t.Helper()
	cfg := DefaultBehaviourConfig().Cluster
	if mut != nil {
		mut(&cfg)
	}
	return NewClusters(cfg, clk.Now)
}

var (
	clusterSite  = [16]byte{0xc1, 1}
	clusterSite2 = [16]byte{0xc1, 2}
)

const farmFP = 0xfa23fa23fa23fa23

// observeNetworks observes one page load of fp from each of the networks
// first … first+n-1 and returns the last answer.
func observeNetworks(c *Clusters, site [16]byte, fp uint64, first, n uint32) bool {
	var got bool
	for i := range n {
		got = c.Observe(site, fp, testPrefix(first+i))
	}
	return got
}

func TestClustersFarm(t *testing.T) {
	t.Parallel()
	clk := newTestClock(tokenT0())
	c := newTestClusters(t, clk, nil) // more than 20 networks, at least 25 % of the site
	if observeNetworks(c, clusterSite, farmFP, 0, 20) {
		t.Error("20 networks: cluster, want not (more than 20 are needed)")
	}
	// The same networks again do not add up.
	if observeNetworks(c, clusterSite, farmFP, 0, 20) {
		t.Error("the same 20 networks again: cluster")
	}
	if !c.Observe(clusterSite, farmFP, testPrefix(20)) {
		t.Error("the 21st network: not a cluster")
	}
	if !c.Clustered(clusterSite, farmFP) {
		t.Error("Clustered after the 21st: false")
	}
	// Tenants are apart: the same fingerprint on another site starts from
	// nothing, and other fingerprints are not affected.
	if c.Observe(clusterSite2, farmFP, testPrefix(99)) || c.Clustered(clusterSite2, farmFP) {
		t.Error("another site: cluster")
	}
	if c.Observe(clusterSite, farmFP+1, testPrefix(0)) || c.Clustered(clusterSite, 1) {
		t.Error("another fingerprint: cluster")
	}
}

func TestClustersShareOfSite(t *testing.T) {
	t.Parallel()
	clk := newTestClock(tokenT0())
	c := newTestClusters(t, clk, nil)
	// A big site: 1,000 page loads of other machines.
	for i := range uint64(1000) {
		c.Observe(clusterSite, 1+i, testPrefix(1000+uint32(i)))
	}
	// A popular phone from 30 networks, 10 page loads each: 300 of 1,300
	// page loads is 23 %, below 25 %.
	for range 10 {
		if observeNetworks(c, clusterSite, farmFP, 0, 30) {
			t.Fatal("23 % of the site's page loads: cluster")
		}
	}
	// 34 more make it 334 of 1,334: 25.04 %.
	if observeNetworks(c, clusterSite, farmFP, 0, 33) {
		t.Fatal("333 of 1,333 page loads (24.98 %): cluster")
	}
	if !c.Observe(clusterSite, farmFP, testPrefix(33)) {
		t.Error("334 of 1,334 page loads (25.04 %) from 34 networks: not a cluster")
	}

	// With min_share_percent 0 the networks alone decide.
	c = newTestClusters(t, clk, func(c *ClusterConfig) { c.MinSharePercent = 0 })
	for i := range uint64(1000) {
		c.Observe(clusterSite, 1+i, testPrefix(uint32(i)))
	}
	if !observeNetworks(c, clusterSite, farmFP, 0, 21) {
		t.Error("share off, 21 networks: not a cluster")
	}
}

func TestClustersWindow(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	for _, tc := range []struct {
		after time.Duration
		want  bool
	}{
		{10*time.Minute - time.Second, true}, // the 20 are still within the 10m window
		{10 * time.Minute, false},            // they have just left it
	} {
		clk := newTestClock(t0)
		c := newTestClusters(t, clk, nil)
		observeNetworks(c, clusterSite, farmFP, 0, 20)
		clk.Set(t0.Add(tc.after))
		if got := c.Observe(clusterSite, farmFP, testPrefix(20)); got != tc.want {
			t.Errorf("21st network %v after the others: cluster %v, want %v", tc.after, got, tc.want)
		}
		if tc.want {
			continue
		}
		if got := c.liveNets(clusterSite, farmFP); got != 1 {
			t.Errorf("live networks %d, want 1", got)
		}
		// Networks seen again are live again: the 20 and the 21st.
		if !observeNetworks(c, clusterSite, farmFP, 0, 20) {
			t.Error("the 20 back within the window of the 21st: not a cluster")
		}
	}
}

func TestClustersNetworkCap(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	c := newTestClusters(t, clk, nil)
	if !observeNetworks(c, clusterSite, farmFP, 0, 200) {
		t.Error("200 networks: not a cluster")
	}
	e := c.fpEntry(clusterSite, farmFP)
	if got := e.live(t0.Unix(), c.width); got != clusterMaxNetworks {
		t.Errorf("live networks %d, want %d (count-only beyond)", got, clusterMaxNetworks)
	}
	if len(e.more) != clusterMaxNetworks-len(e.first) {
		t.Errorf("%d slots beyond the first, want %d", len(e.more), clusterMaxNetworks-len(e.first))
	}
	// Expired slots are reused, not added to.
	clk.Set(t0.Add(10 * time.Minute))
	observeNetworks(c, clusterSite, farmFP, 1000, 70)
	e = c.fpEntry(clusterSite, farmFP)
	if len(e.more) != clusterMaxNetworks-len(e.first) || e.live(clk.Now().Unix(), c.width) != clusterMaxNetworks {
		t.Errorf("after the window: %d slots beyond the first, %d live", len(e.more), e.live(clk.Now().Unix(), c.width))
	}
}

func TestClustersOff(t *testing.T) {
	t.Parallel()
	c := newTestClusters(t, newTestClock(tokenT0()), func(c *ClusterConfig) { c.Networks = 0 })
	if observeNetworks(c, clusterSite, farmFP, 0, 100) || c.Clustered(clusterSite, farmFP) || c.Len() != 0 {
		t.Errorf("networks 0: flagged or tracked (Len %d)", c.Len())
	}
}

func TestClustersSweepAndCap(t *testing.T) {
	t.Parallel()
	t0 := tokenT0()
	clk := newTestClock(t0)
	c := newTestClusters(t, clk, func(c *ClusterConfig) { c.MaxFingerprints = 1 })
	c.Observe(clusterSite, 1, testPrefix(1))
	// At the cap a new fingerprint is neither tracked nor flagged.
	if observeNetworks(c, clusterSite, farmFP, 0, 30) || c.Clustered(clusterSite, farmFP) || c.Len() != 1 {
		t.Errorf("untracked fingerprint flagged, or Len %d != 1", c.Len())
	}
	// An entry lives while its page loads are in the window's buckets:
	// t0 is on a 10-minute boundary, so until +20m.
	if n := c.Sweep(t0.Add(20*time.Minute - time.Second)); n != 0 {
		t.Errorf("sweep at +20m-1s dropped %d", n)
	}
	if n := c.Sweep(t0.Add(20 * time.Minute)); n != 1 || c.Len() != 0 {
		t.Errorf("sweep at +20m: dropped %d, Len %d; want 1, 0", n, c.Len())
	}
	// A full shard sweeps itself to make room (the site table too).
	c.Observe(clusterSite, 1, testPrefix(1))
	clk.Set(t0.Add(30 * time.Minute))
	if !observeNetworks(c, clusterSite2, farmFP, 0, 21) {
		t.Error("after the first expired: the farm is not tracked")
	}
}

// TestClustersConcurrent: networks observed from many goroutines are each
// counted once (run with -race).
func TestClustersConcurrent(t *testing.T) {
	t.Parallel()
	clk := newTestClock(tokenT0())
	c := newTestClusters(t, clk, nil)
	const workers, nets = 8, 5
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range 20 {
				observeNetworks(c, clusterSite, farmFP, uint32(w*nets), nets)
				c.Observe(clusterSite, uint64(w), testPrefix(uint32(w))) // its own fingerprint
				c.Clustered(clusterSite, farmFP)
			}
		})
	}
	wg.Wait()
	if got := c.liveNets(clusterSite, farmFP); got != workers*nets {
		t.Errorf("live networks %d, want %d", got, workers*nets)
	}
	// 800 of 960 page loads, from 40 networks.
	if !c.Clustered(clusterSite, farmFP) {
		t.Error("not a cluster")
	}
	if c.Len() != workers+1 {
		t.Errorf("Len %d, want %d", c.Len(), workers+1)
	}
}

func TestClustersDoesNotAllocate(t *testing.T) {
	c := newTestClusters(t, newTestClock(tokenT0()), nil)
	p := testPrefix(1)
	c.Observe(clusterSite, farmFP, p)
	if n := testing.AllocsPerRun(1000, func() { c.Observe(clusterSite, farmFP, p); c.Clustered(clusterSite, farmFP) }); n != 0 {
		t.Errorf("Observe of a known fingerprint and network: %v allocations, want 0", n)
	}
	// Nor does a fingerprint's second network (the first two are inline):
	// each run adds one to another fingerprint (AllocsPerRun runs once more
	// to warm up).
	const runs = 10
	for i := range uint64(runs + 1) {
		c.Observe(clusterSite, i, p)
	}
	next := uint64(0)
	if n := testing.AllocsPerRun(runs, func() { c.Observe(clusterSite, next, testPrefix(2)); next++ }); n != 0 {
		t.Errorf("a fingerprint's second network: %v allocations, want 0", n)
	}
	if got := c.liveNets(clusterSite, runs); got != 2 {
		t.Errorf("the last run's fingerprint has %d networks, want 2", got)
	}
}

// fpEntry is a copy of the entry of (site, fp).
func (c *Clusters) fpEntry(site [16]byte, fp uint64) clusterEntry {
	sh := c.fps.shard(fp ^ binary.LittleEndian.Uint64(site[:8]))
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[clusterKey{site, fp}]
	e.more = append([]clusterNet(nil), e.more...)
	return e
}

// liveNets is how many networks of (site, fp) are within the window now.
func (c *Clusters) liveNets(site [16]byte, fp uint64) int {
	e := c.fpEntry(site, fp)
	return e.live(c.now().Unix(), c.width)
}

// BenchmarkClustersObserve is a page load of a known fingerprint from a
// known network, among ≈ 1,000 fingerprints.
func BenchmarkClustersObserve(b *testing.B) {
	c := newTestClusters(b, newTestClock(tokenT0()), nil)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		c.Observe(clusterSite, uint64(i%1024), testPrefix(i%1024))
		i++
	}
}

// BenchmarkClustersObserveFarm is a page load of a fingerprint already
// seen from 64 networks: the longest scan.
func BenchmarkClustersObserveFarm(b *testing.B) {
	c := newTestClusters(b, newTestClock(tokenT0()), nil)
	observeNetworks(c, clusterSite, farmFP, 0, clusterMaxNetworks)
	b.ReportAllocs()
	i := uint32(0)
	for b.Loop() {
		c.Observe(clusterSite, farmFP, testPrefix(i%clusterMaxNetworks))
		i++
	}
}
