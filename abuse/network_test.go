package abuse

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// mmdbRecord is one network of a test database and its record.
type mmdbRecord struct {
	cidr  string
	value mmdbtype.Map
}

func asnRec(cidr string, asn uint32, org string) mmdbRecord {
	return mmdbRecord{cidr, mmdbtype.Map{
		"autonomous_system_number":       mmdbtype.Uint32(asn),
		"autonomous_system_organization": mmdbtype.String(org),
	}}
}

// anonRec builds a GeoIP2-Anonymous-IP record with the given flags set
// (is_anonymous is set too, as in the real database).
func anonRec(cidr string, flags ...string) mmdbRecord {
	m := mmdbtype.Map{"is_anonymous": mmdbtype.Bool(true)}
	for _, f := range flags {
		m[mmdbtype.String(f)] = mmdbtype.Bool(true)
	}
	return mmdbRecord{cidr, m}
}

var (
	testASNRecords = []mmdbRecord{
		asnRec("3.0.0.0/15", 16509, "AMAZON-02"),
		asnRec("2600:1f00::/24", 16509, "AMAZON-02"),
		asnRec("5.9.0.0/16", 24940, "Hetzner Online GmbH"),
		asnRec("81.2.69.0/24", 3320, "Deutsche Telekom AG"),
		asnRec("2a02:8070::/32", 3209, "Vodafone GmbH"),
		// Never asked: Classify skips private addresses.
		asnRec("10.0.0.0/8", 16509, "PRIVATE"),
	}
	testAnonRecords = []mmdbRecord{
		anonRec("185.220.101.0/24", "is_tor_exit_node"),
		anonRec("45.86.200.0/24", "is_anonymous_vpn"),
		anonRec("2a0d:5600::/32", "is_anonymous_vpn"),
		anonRec("5.9.1.0/24", "is_anonymous_vpn", "is_hosting_provider"),
		anonRec("103.1.2.0/24", "is_public_proxy"),
		anonRec("89.160.20.0/24", "is_residential_proxy"),
		anonRec("2001:470::/32", "is_residential_proxy", "is_public_proxy"),
		anonRec("10.0.0.0/8", "is_anonymous_vpn", "is_tor_exit_node", "is_public_proxy", "is_residential_proxy", "is_hosting_provider"),
	}
)

const (
	testHostingCIDRs = `# operator hosting list
147.75.0.0/16   # Equinix Metal
2a01:4f8::/32
1.2.3.4

10.9.0.0/16 # our own lab: the lists apply to private addresses too
`
	testTorExits = `# exported Tor exit list
185.220.100.1
2001:67c:e60:c0c:192:42:116:16
`
)

// writeNetMMDB writes a database of type dbType holding records to path.
func writeNetMMDB(t testing.TB, path, dbType string, records []mmdbRecord) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		RecordSize:              24,
		IncludeReservedNetworks: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		_, network, err := net.ParseCIDR(r.cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, r.value); err != nil {
			t.Fatalf("insert %s: %v", r.cidr, err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// replaceFile writes content to path and sets its modification time to
// mtime, so that a change is seen whatever the file system's timestamp
// granularity.
func replaceFile(t testing.TB, path, content string, mtime time.Time) {
	t.Helper()
	writeFile(t, path, content)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// testNetworkConfig writes every test file into a new directory.
func testNetworkConfig(t testing.TB) NetworkConfig {
	t.Helper()
	dir := t.TempDir()
	cfg := NetworkConfig{
		ASNDB:         filepath.Join(dir, "GeoLite2-ASN.mmdb"),
		AnonymousIPDB: filepath.Join(dir, "GeoIP2-Anonymous-IP.mmdb"),
		HostingCIDRs:  filepath.Join(dir, "hosting.txt"),
		TorExits:      filepath.Join(dir, "tor-exits.txt"),
	}
	writeNetMMDB(t, cfg.ASNDB, "GeoLite2-ASN", testASNRecords)
	writeNetMMDB(t, cfg.AnonymousIPDB, "GeoIP2-Anonymous-IP", testAnonRecords)
	writeFile(t, cfg.HostingCIDRs, testHostingCIDRs)
	writeFile(t, cfg.TorExits, testTorExits)
	return cfg
}

func newTestNetwork(t testing.TB, cfg NetworkConfig) *Network {
	t.Helper()
	n, err := NewNetwork(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	return n
}

func classify(n *Network, ip string) NetClass {
	if ip == "" {
		return n.Classify(netip.Addr{})
	}
	return n.Classify(netip.MustParseAddr(ip))
}

func TestNetworkClassify(t *testing.T) {
	t.Parallel()
	n := newTestNetwork(t, testNetworkConfig(t))
	amazon := NetClass{Hosting: true, ASN: 16509, ASOrg: "AMAZON-02"}
	for _, tc := range []struct {
		ip   string
		want NetClass
	}{
		// Hosting by ASN database and the default ASN list.
		{"3.1.2.3", amazon},
		{"2600:1f00::1", amazon},
		{"::ffff:3.1.2.3", amazon},
		{"5.9.200.1", NetClass{Hosting: true, ASN: 24940, ASOrg: "Hetzner Online GmbH"}},
		// Both databases.
		{"5.9.1.1", NetClass{Hosting: true, VPN: true, ASN: 24940, ASOrg: "Hetzner Online GmbH"}},
		// An ASN that is not hosting: the ASN, nothing else.
		{"81.2.69.142", NetClass{ASN: 3320, ASOrg: "Deutsche Telekom AG"}},
		{"2a02:8070:1234::1", NetClass{ASN: 3209, ASOrg: "Vodafone GmbH"}},
		// Hosting by the operator's CIDR file.
		{"147.75.1.1", NetClass{Hosting: true}},
		{"147.75.255.255", NetClass{Hosting: true}},
		{"147.76.0.0", NetClass{}},
		{"2a01:4f8:c0c::1", NetClass{Hosting: true}},
		{"1.2.3.4", NetClass{Hosting: true}},
		{"1.2.3.5", NetClass{}},
		{"10.9.1.1", NetClass{Hosting: true}}, // the databases are not asked
		// Tor by exit list and by database.
		{"185.220.100.1", NetClass{Tor: true}},
		{"::ffff:185.220.100.1", NetClass{Tor: true}},
		{"185.220.100.2", NetClass{}},
		{"2001:67c:e60:c0c:192:42:116:16", NetClass{Tor: true}},
		{"185.220.101.7", NetClass{Tor: true}},
		// VPN and proxies from the Anonymous-IP database.
		{"45.86.200.7", NetClass{VPN: true}},
		{"2a0d:5600::9", NetClass{VPN: true}},
		{"103.1.2.3", NetClass{PublicProxy: true}},
		{"89.160.20.1", NetClass{ResidentialProxy: true}},
		{"2001:470::1", NetClass{PublicProxy: true, ResidentialProxy: true}},
		// Clean residential addresses, IPv4 and IPv6.
		{"89.0.0.1", NetClass{}},
		{"2003:e0::1", NetClass{}},
		// Never asked, although the test databases have 10.0.0.0/8.
		{"10.1.1.1", NetClass{}},
		{"::ffff:10.1.1.1", NetClass{}},
		{"127.0.0.1", NetClass{}},
		{"::1", NetClass{}},
		{"fe80::1%eth0", NetClass{}},
		{"fd00::1", NetClass{}},
		{"224.0.0.1", NetClass{}},
		{"0.0.0.0", NetClass{}},
		{"", NetClass{}}, // invalid netip.Addr
	} {
		if got := classify(n, tc.ip); got != tc.want {
			t.Errorf("Classify(%s) = %+v, want %+v", tc.ip, got, tc.want)
		}
	}
}

func TestNetworkEmptyConfig(t *testing.T) {
	t.Parallel()
	n := newTestNetwork(t, NetworkConfig{})
	for _, ip := range []string{"3.1.2.3", "185.220.100.1", "2600:1f00::1", "10.1.1.1", ""} {
		if got := classify(n, ip); got != (NetClass{}) {
			t.Errorf("Classify(%s) = %+v, want zero", ip, got)
		}
	}
	if err := n.Reload(); err != nil {
		t.Errorf("Reload = %v", err)
	}
	var nilNet *Network
	if got := classify(nilNet, "3.1.2.3"); got != (NetClass{}) {
		t.Errorf("nil Classify = %+v, want zero", got)
	}
	if err := nilNet.Close(); err != nil {
		t.Errorf("nil Close = %v", err)
	}
}

func TestNetworkHostingASNs(t *testing.T) {
	t.Parallel()
	full := testNetworkConfig(t)
	cfg := NetworkConfig{ASNDB: full.ASNDB}
	for _, tc := range []struct {
		name string
		asns []uint
		want map[string]NetClass
	}{
		{"default", nil, map[string]NetClass{
			"3.1.2.3":     {Hosting: true, ASN: 16509, ASOrg: "AMAZON-02"},
			"81.2.69.142": {ASN: 3320, ASOrg: "Deutsche Telekom AG"},
		}},
		{"none", []uint{}, map[string]NetClass{
			"3.1.2.3":     {ASN: 16509, ASOrg: "AMAZON-02"},
			"81.2.69.142": {ASN: 3320, ASOrg: "Deutsche Telekom AG"},
		}},
		{"custom", []uint{3320}, map[string]NetClass{
			"3.1.2.3":     {ASN: 16509, ASOrg: "AMAZON-02"},
			"81.2.69.142": {Hosting: true, ASN: 3320, ASOrg: "Deutsche Telekom AG"},
		}},
	} {
		cfg.HostingASNs = tc.asns
		n := newTestNetwork(t, cfg)
		for ip, want := range tc.want {
			if got := classify(n, ip); got != want {
				t.Errorf("%s: Classify(%s) = %+v, want %+v", tc.name, ip, got, want)
			}
		}
	}
	// The default list is a fresh copy and holds the providers the
	// config documents.
	d := DefaultHostingASNs()
	for _, a := range []uint{16509, 15169, 8075, 24940, 16276, 14061} {
		found := false
		for _, b := range d {
			found = found || a == b
		}
		if !found {
			t.Errorf("DefaultHostingASNs lacks %d", a)
		}
	}
	d[0] = 0
	if DefaultHostingASNs()[0] == 0 {
		t.Error("DefaultHostingASNs returns a shared slice")
	}
}

func TestNetworkBadFiles(t *testing.T) {
	t.Parallel()
	good := testNetworkConfig(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.txt")
	badCIDR := filepath.Join(dir, "bad-cidr.txt")
	writeFile(t, badCIDR, "# list\n147.75.0.0/16\n\n147.75.0.0/33\n")
	badIP := filepath.Join(dir, "bad-ip.txt")
	writeFile(t, badIP, "1.2.3.4\nnot-an-ip # comment\n")
	torCIDR := filepath.Join(dir, "tor-cidr.txt")
	writeFile(t, torCIDR, "185.220.100.1\n185.220.100.0/24\n")
	zone := filepath.Join(dir, "zone.txt")
	writeFile(t, zone, "fe80::1%eth0\n")
	notMMDB := filepath.Join(dir, "not.mmdb")
	writeFile(t, notMMDB, "this is no database")
	for _, tc := range []struct {
		name string
		cfg  NetworkConfig
		want []string // substrings of the error
	}{
		{"missing ASN db", NetworkConfig{ASNDB: missing}, []string{missing}},
		{"missing anonymous-IP db", NetworkConfig{AnonymousIPDB: missing}, []string{missing}},
		{"missing CIDR file", NetworkConfig{HostingCIDRs: missing}, []string{missing}},
		{"missing Tor file", NetworkConfig{TorExits: missing}, []string{missing}},
		{"malformed CIDR", NetworkConfig{HostingCIDRs: badCIDR}, []string{badCIDR + ":4:", "147.75.0.0/33"}},
		{"malformed IP", NetworkConfig{HostingCIDRs: badIP}, []string{badIP + ":2:", `"not-an-ip"`}},
		{"CIDR in Tor list", NetworkConfig{TorExits: torCIDR}, []string{torCIDR + ":2:", "not a CIDR"}},
		{"zone", NetworkConfig{HostingCIDRs: zone}, []string{zone + ":1:", "zone"}},
		{"not a database", NetworkConfig{ASNDB: notMMDB}, []string{notMMDB}},
		{"ASN db of the wrong type", NetworkConfig{ASNDB: good.AnonymousIPDB}, []string{good.AnonymousIPDB, "GeoIP2-Anonymous-IP"}},
		{"anonymous-IP db of the wrong type", NetworkConfig{AnonymousIPDB: good.ASNDB}, []string{good.ASNDB, "GeoLite2-ASN"}},
		{"one bad among good", NetworkConfig{ASNDB: good.ASNDB, AnonymousIPDB: good.AnonymousIPDB, HostingCIDRs: good.HostingCIDRs, TorExits: missing}, []string{missing}},
	} {
		n, err := NewNetwork(tc.cfg)
		if err == nil {
			t.Errorf("%s: NewNetwork = %v, nil; want an error", tc.name, n)
			continue
		}
		if n != nil {
			t.Errorf("%s: NewNetwork returned a Network with its error", tc.name)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tc.name, err, w)
			}
		}
	}
	_, err := NewNetwork(NetworkConfig{TorExits: missing})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: error %v does not wrap os.ErrNotExist", err)
	}
}

func TestNetworkReload(t *testing.T) {
	t.Parallel()
	cfg := testNetworkConfig(t)
	n := newTestNetwork(t, cfg)
	if got, want := classify(n, "198.18.0.1"), (NetClass{}); got != want {
		t.Fatalf("before: Classify = %+v, want %+v", got, want)
	}
	// A changed list and a changed database.
	writeFile(t, cfg.HostingCIDRs, "198.18.0.0/15\n")
	writeNetMMDB(t, cfg.ASNDB, "GeoLite2-ASN", []mmdbRecord{asnRec("81.2.69.0/24", 14061, "DIGITALOCEAN-ASN")})
	if err := n.Reload(); err != nil {
		t.Fatal(err)
	}
	for ip, want := range map[string]NetClass{
		"198.18.0.1":  {Hosting: true},
		"147.75.1.1":  {},
		"81.2.69.142": {Hosting: true, ASN: 14061, ASOrg: "DIGITALOCEAN-ASN"},
		"3.1.2.3":     {},
		"45.86.200.7": {VPN: true}, // unchanged file
	} {
		if got := classify(n, ip); got != want {
			t.Errorf("after reload: Classify(%s) = %+v, want %+v", ip, got, want)
		}
	}

	// A broken file: the error names it, and the old data stays, the
	// good files included.
	writeFile(t, cfg.HostingCIDRs, "198.18.0.0/15\nbogus\n")
	writeNetMMDB(t, cfg.ASNDB, "GeoLite2-ASN", testASNRecords)
	err := n.Reload()
	if err == nil || !strings.Contains(err.Error(), cfg.HostingCIDRs+":2:") {
		t.Fatalf("Reload with a broken file = %v; want an error naming %s:2", err, cfg.HostingCIDRs)
	}
	for ip, want := range map[string]NetClass{
		"198.18.0.1":  {Hosting: true},
		"81.2.69.142": {Hosting: true, ASN: 14061, ASOrg: "DIGITALOCEAN-ASN"},
	} {
		if got := classify(n, ip); got != want {
			t.Errorf("after failed reload: Classify(%s) = %+v, want %+v", ip, got, want)
		}
	}
	// A deleted file is an error too.
	writeFile(t, cfg.HostingCIDRs, "198.18.0.0/15\n")
	if err := os.Remove(cfg.TorExits); err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(); err == nil || !strings.Contains(err.Error(), cfg.TorExits) {
		t.Errorf("Reload with a deleted file = %v; want an error naming it", err)
	}
	if got, want := classify(n, "185.220.100.1"), (NetClass{Tor: true}); got != want {
		t.Errorf("after failed reload: Classify(tor) = %+v, want %+v", got, want)
	}
}

func TestNetworkClose(t *testing.T) {
	t.Parallel()
	n, err := NewNetwork(testNetworkConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := classify(n, "3.1.2.3"); !got.Hosting {
		t.Fatalf("Classify = %+v, want hosting", got)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if got := classify(n, "3.1.2.3"); got != (NetClass{}) {
		t.Errorf("Classify after Close = %+v, want zero", got)
	}
	if err := n.Reload(); err == nil {
		t.Error("Reload after Close = nil, want an error")
	}
	if got := classify(n, "3.1.2.3"); got != (NetClass{}) {
		t.Errorf("Classify after Close and Reload = %+v, want zero", got)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestNetworkWatchFiles(t *testing.T) {
	t.Parallel()
	cfg := testNetworkConfig(t)
	n := newTestNetwork(t, cfg)
	// The file times are real; the ticker's time is synctest's.
	mtime := time.Now().Add(time.Hour)
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		var errs []error // only the watcher appends; read after synctest.Wait
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.WatchFiles(ctx, time.Second, func(err error) { errs = append(errs, err) })
		}()
		tick := func() {
			time.Sleep(time.Second)
			synctest.Wait()
		}

		// Nothing changed: no reload, no error.
		tick()
		if len(errs) != 0 {
			t.Fatalf("errors %v", errs)
		}

		replaceFile(t, cfg.TorExits, "198.18.0.1\n", mtime)
		tick()
		if got, want := classify(n, "198.18.0.1"), (NetClass{Tor: true}); got != want {
			t.Errorf("after change: Classify = %+v, want %+v", got, want)
		}
		if got := classify(n, "185.220.100.1"); got != (NetClass{}) {
			t.Errorf("after change: Classify(old exit) = %+v, want zero", got)
		}

		// Same size, new mtime.
		replaceFile(t, cfg.TorExits, "198.18.0.2\n", mtime.Add(time.Second))
		tick()
		if got, want := classify(n, "198.18.0.2"), (NetClass{Tor: true}); got != want {
			t.Errorf("after same-size change: Classify = %+v, want %+v", got, want)
		}

		// A broken file: reported once, old data kept, retried.
		replaceFile(t, cfg.HostingCIDRs, "nonsense\n", mtime.Add(2*time.Second))
		tick()
		tick()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), cfg.HostingCIDRs+":1:") {
			t.Fatalf("errors after a broken file = %v; want one naming %s:1", errs, cfg.HostingCIDRs)
		}
		if got, want := classify(n, "147.75.1.1"), (NetClass{Hosting: true}); got != want {
			t.Errorf("after broken file: Classify = %+v, want %+v", got, want)
		}
		replaceFile(t, cfg.HostingCIDRs, "198.18.0.0/15\n", mtime.Add(3*time.Second))
		tick()
		if got, want := classify(n, "198.18.0.2"), (NetClass{Tor: true, Hosting: true}); got != want {
			t.Errorf("after fix: Classify = %+v, want %+v", got, want)
		}
		if len(errs) != 1 {
			t.Errorf("errors after fix = %v; want the one", errs)
		}

		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Error("WatchFiles still running after cancel")
		}
	})
}

func TestNetworkWatchFilesStopsOnClose(t *testing.T) {
	t.Parallel()
	n, err := NewNetwork(testNetworkConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			n.WatchFiles(t.Context(), time.Second, nil)
		}()
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Error("WatchFiles still running after Close")
		}
	})
}

// TestNetworkConcurrent classifies while files are reloaded. Version A
// lists 198.18.0.1 as both hosting and a Tor exit, version B as neither:
// a lookup that saw half a reload would see one flag without the other.
func TestNetworkConcurrent(t *testing.T) {
	t.Parallel()
	cfg := testNetworkConfig(t)
	n := newTestNetwork(t, cfg)
	ip := netip.MustParseAddr("198.18.0.1")
	versions := [2][2]string{
		{"198.18.0.0/15\n", "198.18.0.1\n"},
		{"147.75.0.0/16\n", "185.220.100.1\n"},
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		defer errMu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				c := n.Classify(ip)
				if c.Hosting != c.Tor {
					fail(fmt.Errorf("torn read: %+v", c))
					return
				}
				if c := n.Classify(netip.MustParseAddr("3.1.2.3")); c.ASN != 16509 {
					fail(fmt.Errorf("Classify(3.1.2.3) = %+v", c))
					return
				}
			}
		})
	}
	rounds := 50
	if raceEnabled {
		rounds = 20
	}
	for i := range rounds {
		v := versions[i%2]
		writeFile(t, cfg.HostingCIDRs, v[0])
		writeFile(t, cfg.TorExits, v[1])
		if err := n.Reload(); err != nil {
			t.Error(err)
			break
		}
	}
	cancel()
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

func BenchmarkClassify(b *testing.B) {
	n := newTestNetwork(b, testNetworkConfig(b))
	ips := []netip.Addr{
		netip.MustParseAddr("3.1.2.3"),       // ASN hit, hosting
		netip.MustParseAddr("81.2.69.142"),   // ASN hit, residential
		netip.MustParseAddr("89.0.0.1"),      // miss everywhere
		netip.MustParseAddr("45.86.200.7"),   // VPN
		netip.MustParseAddr("2a02:8070::1"),  // IPv6 ASN hit
		netip.MustParseAddr("2003:e0::1"),    // IPv6 miss
		netip.MustParseAddr("185.220.100.1"), // Tor list
		netip.MustParseAddr("147.75.1.1"),    // CIDR list
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = n.Classify(ips[i%len(ips)])
		i++
	}
}

func TestClientPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.77":          "203.0.113.0/24",
		"::ffff:198.51.100.200": "198.51.100.0/24",
		"2001:db8:abcd:12::1":   "2001:db8:abcd::/48",
	} {
		p, ok := ClientPrefix(netip.MustParseAddr(in))
		if !ok || p.String() != want {
			t.Errorf("ClientPrefix(%s) = %s, %v; want %s", in, p, ok, want)
		}
	}
	if _, ok := ClientPrefix(netip.Addr{}); ok {
		t.Error("ClientPrefix of no address: ok")
	}
}
