package abuse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/maxminddb-golang/v2"
	"go4.org/netipx"
)

// NetClass is what the scorer learns about the network a client IP is in.
// The zero NetClass is an ordinary (residential or unknown) network.
type NetClass struct {
	// Hosting: a data centre or hosting provider (operator CIDR list,
	// a HostingASNs match, or the Anonymous-IP database's
	// is_hosting_provider).
	Hosting bool
	// VPN: a known anonymous VPN exit (Anonymous-IP is_anonymous_vpn).
	VPN bool
	// Tor: a Tor exit node (exit list file or Anonymous-IP
	// is_tor_exit_node).
	Tor bool
	// PublicProxy: an open proxy (Anonymous-IP is_public_proxy).
	PublicProxy bool
	// ResidentialProxy: a residential proxy network exit (Anonymous-IP
	// is_residential_proxy).
	ResidentialProxy bool
	// ASN is the autonomous system number from the ASN database, 0 when
	// unknown.
	ASN uint
	// ASOrg is the autonomous system's organisation, "" when unknown.
	ASOrg string
}

// NetworkConfig names the sources Network classifies with. Every field is
// optional; the zero NetworkConfig classifies nothing.
type NetworkConfig struct {
	// ASNDB is the path of a GeoLite2-ASN (or DB-IP ASN Lite, or GeoIP2-ISP)
	// .mmdb file; "" for none.
	ASNDB string
	// AnonymousIPDB is the path of a GeoIP2-Anonymous-IP .mmdb file; ""
	// for none.
	AnonymousIPDB string
	// HostingCIDRs is the path of the operator's list of hosting networks:
	// one CIDR or IP a line, blank lines and '#' comments ignored; "" for
	// none.
	HostingCIDRs string
	// TorExits is the path of a Tor exit list: one IP a line (as in the
	// Tor Project's bulk exit list), blank lines and '#' comments ignored;
	// "" for none.
	TorExits string
	// HostingASNs are the ASNs counted as hosting when the ASN database
	// places an IP in them. nil means DefaultHostingASNs(); an empty,
	// non-nil slice means none.
	HostingASNs []uint
}

// DefaultHostingASNs returns the ASNs of the largest cloud and hosting
// providers, where human visitors are rare and headless browsers common:
//
//	16509, 14618  Amazon (AWS)
//	15169, 396982 Google (GCP)
//	8075          Microsoft (Azure)
//	24940         Hetzner
//	16276         OVH
//	14061         DigitalOcean
//	63949         Akamai Connected Cloud (Linode)
//	20473         The Constant Company (Vultr)
//	31898         Oracle Cloud
//	45102         Alibaba Cloud
//	132203        Tencent Cloud
//	51167         Contabo
//	12876         Scaleway
//
// A new slice each call: callers may extend it.
func DefaultHostingASNs() []uint {
	return []uint{16509, 14618, 15169, 396982, 8075, 24940, 16276, 14061, 63949, 20473, 31898, 45102, 132203, 51167, 12876}
}

// Network classifies client IPs by network (hosting, VPN, Tor, proxies) for
// the scorer. Its files are re-read by Reload, or by WatchFiles when their
// modification times change. Safe for concurrent use.
//
// The .mmdb files are read into memory rather than memory-mapped, unlike
// collector/enrich: a hot-reloaded file may be rewritten in place, which
// would fault a mapping, and an in-memory snapshot lets Classify run
// without a lock (an atomic.Pointer swap) while the old one is collected
// once the last lookup using it returns. The two databases are a few tens
// of megabytes.
type Network struct {
	cfg        NetworkConfig
	hostingASN map[uint]struct{}

	cur atomic.Pointer[netData] // nil after Close

	reloadMu sync.Mutex // serialises Reload and Close
	closed   bool       // guarded by reloadMu
}

// netData is one immutable snapshot of the files.
type netData struct {
	asn     *maxminddb.Reader // nil when not configured
	anon    *maxminddb.Reader // nil when not configured
	hosting *netipx.IPSet     // nil when not configured
	tor     *netipx.IPSet     // nil when not configured
	stamps  []fileStamp       // one per configured file, for WatchFiles
}

// fileStamp identifies a version of a file by size and modification time.
type fileStamp struct {
	path    string
	size    int64
	modTime time.Time
}

// NewNetwork reads the configured files. A configured file that is missing
// or malformed is an error naming it.
func NewNetwork(cfg NetworkConfig) (*Network, error) {
	asns := cfg.HostingASNs
	if asns == nil {
		asns = DefaultHostingASNs()
	}
	cfg.HostingASNs = slices.Clone(asns)
	n := &Network{cfg: cfg, hostingASN: make(map[uint]struct{}, len(asns))}
	for _, a := range asns {
		n.hostingASN[a] = struct{}{}
	}
	d, err := n.load()
	if err != nil {
		return nil, err
	}
	n.cur.Store(d)
	return n, nil
}

// Classify returns what is known about ip's network. An IPv4-mapped IPv6
// address is classified as IPv4. The databases are not asked about
// private, loopback, link-local, multicast or unspecified addresses; the
// operator's lists apply to any address. An invalid address, a closed
// Network and a nil *Network give the zero NetClass.
func (n *Network) Classify(ip netip.Addr) NetClass {
	var c NetClass
	if n == nil || !ip.IsValid() {
		return c
	}
	d := n.cur.Load()
	if d == nil {
		return c
	}
	ip = ip.Unmap().WithZone("")
	if d.hosting != nil && d.hosting.Contains(ip) {
		c.Hosting = true
	}
	if d.tor != nil && d.tor.Contains(ip) {
		c.Tor = true
	}
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return c
	}
	// A decode error (a corrupt record) counts as unknown: the signal is
	// a weight, not worth failing a request for.
	if d.asn != nil {
		var rec asnRecord
		if err := d.asn.Lookup(ip).Decode(&rec); err == nil {
			c.ASN, c.ASOrg = rec.Number, rec.Org
			if _, ok := n.hostingASN[rec.Number]; ok && rec.Number != 0 {
				c.Hosting = true
			}
		}
	}
	if d.anon != nil {
		var rec anonRecord
		if err := d.anon.Lookup(ip).Decode(&rec); err == nil {
			c.Hosting = c.Hosting || rec.Hosting
			c.VPN = rec.VPN
			c.Tor = c.Tor || rec.Tor
			c.PublicProxy = rec.PublicProxy
			c.ResidentialProxy = rec.ResidentialProxy
		}
	}
	return c
}

type asnRecord struct {
	Number uint   `maxminddb:"autonomous_system_number"`
	Org    string `maxminddb:"autonomous_system_organization"`
}

type anonRecord struct {
	Hosting          bool `maxminddb:"is_hosting_provider"`
	VPN              bool `maxminddb:"is_anonymous_vpn"`
	Tor              bool `maxminddb:"is_tor_exit_node"`
	PublicProxy      bool `maxminddb:"is_public_proxy"`
	ResidentialProxy bool `maxminddb:"is_residential_proxy"`
}

// Reload re-reads every configured file and swaps the new data in at once:
// a Classify sees either all old or all new data. On error the old data
// stays in use and the error names the file. Reload after Close returns an
// error.
func (n *Network) Reload() error {
	n.reloadMu.Lock()
	defer n.reloadMu.Unlock()
	if n.closed {
		return errors.New("abuse: network: reload after close")
	}
	d, err := n.load()
	if err != nil {
		return err
	}
	n.cur.Store(d)
	return nil
}

// WatchFiles checks the configured files' sizes and modification times
// every interval until ctx is done or the Network is closed, and calls
// Reload when one has changed. Errors of Reload (and of stat) go to onErr,
// which may be nil; a failed reload is retried at the next check while the
// files still differ from the loaded ones. Replace files by renaming a
// complete new one over the old one, so that a check never sees a
// half-written file. Run it in its own goroutine.
func (n *Network) WatchFiles(ctx context.Context, every time.Duration, onErr func(error)) {
	if every <= 0 {
		every = time.Minute
	}
	report := func(err error) {
		if onErr != nil {
			onErr(err)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var lastErr string // report a persisting error once
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d := n.cur.Load()
		if d == nil {
			return // closed
		}
		changed, err := d.changed()
		if err == nil && changed {
			err = n.Reload()
		}
		switch {
		case err == nil:
			lastErr = ""
		case err.Error() != lastErr:
			lastErr = err.Error()
			report(err)
		}
	}
}

// Close drops the data; Classify then returns the zero NetClass and
// WatchFiles stops at its next check. Closing twice returns nil.
func (n *Network) Close() error {
	if n == nil {
		return nil
	}
	n.reloadMu.Lock()
	defer n.reloadMu.Unlock()
	n.closed = true
	// The readers own no file or mapping (see Network), so lookups still
	// running on the old snapshot stay safe; it is left to the collector.
	n.cur.Store(nil)
	return nil
}

// changed reports whether any of d's files differs from when it was read.
func (d *netData) changed() (bool, error) {
	for _, s := range d.stamps {
		fi, err := os.Stat(s.path)
		if err != nil {
			return false, fmt.Errorf("abuse: network: %w", err)
		}
		if fi.Size() != s.size || !fi.ModTime().Equal(s.modTime) {
			return true, nil
		}
	}
	return false, nil
}

// load reads every configured file into a new snapshot.
func (n *Network) load() (*netData, error) {
	d := &netData{}
	var err error
	if p := n.cfg.ASNDB; p != "" {
		if d.asn, err = loadMMDB(d, p, "ASN", "GeoLite2-ASN", "GeoIP2-ISP", "DBIP-ASN-Lite (compat=GeoLite2-ASN)"); err != nil {
			return nil, err
		}
	}
	if p := n.cfg.AnonymousIPDB; p != "" {
		if d.anon, err = loadMMDB(d, p, "Anonymous-IP", "GeoIP2-Anonymous-IP", "GeoIP-Anonymous-Plus"); err != nil {
			return nil, err
		}
	}
	if p := n.cfg.HostingCIDRs; p != "" {
		if d.hosting, err = loadList(d, p, true); err != nil {
			return nil, err
		}
	}
	if p := n.cfg.TorExits; p != "" {
		if d.tor, err = loadList(d, p, false); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// readStamped reads path and records its stamp in d. The stamp is taken
// before reading: a change during the read then shows at the next check.
func readStamped(d *netData, path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("abuse: network: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("abuse: network: %w", err)
	}
	d.stamps = append(d.stamps, fileStamp{path: path, size: fi.Size(), modTime: fi.ModTime()})
	return b, nil
}

// loadMMDB reads a MaxMind DB whose database_type is one of types.
func loadMMDB(d *netData, path, kind string, types ...string) (*maxminddb.Reader, error) {
	b, err := readStamped(d, path)
	if err != nil {
		return nil, err
	}
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("abuse: network: open %s database %q: %w", kind, path, err)
	}
	if !slices.Contains(types, r.Metadata.DatabaseType) {
		return nil, fmt.Errorf("abuse: network: %s database %q is of type %q; want one of %q", kind, path, r.Metadata.DatabaseType, types)
	}
	return r, nil
}

// loadList reads a file of IPs (and CIDRs when prefixes is set), one a
// line, with blank lines and '#' comments (whole-line or trailing) ignored.
func loadList(d *netData, path string, prefixes bool) (*netipx.IPSet, error) {
	b, err := readStamped(d, path)
	if err != nil {
		return nil, err
	}
	var sb netipx.IPSetBuilder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if i := strings.IndexByte(s, '#'); i >= 0 {
			s = s[:i]
		}
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := parseListEntry(s, prefixes)
		if err != nil {
			return nil, fmt.Errorf("abuse: network: %s:%d: %w", path, line, err)
		}
		sb.AddPrefix(p)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("abuse: network: %s: %w", path, err)
	}
	set, err := sb.IPSet()
	if err != nil {
		return nil, fmt.Errorf("abuse: network: %s: %w", path, err)
	}
	return set, nil
}

// parseListEntry parses one IP, or one CIDR when prefixes is set, as a
// prefix. IPv4-mapped IPv6 entries become IPv4, as Classify looks them up.
func parseListEntry(s string, prefixes bool) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		if !prefixes {
			return netip.Prefix{}, fmt.Errorf("%q: want an IP, not a CIDR", s)
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q: not a CIDR: %w", s, err)
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("%q: IPv4-mapped CIDR shorter than /96", s)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: not an IP: %w", s, err)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q: IP with a zone", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// ClientPrefix is the network a client address is counted by: its /24
// (IPv4, also when IPv4-mapped) or /48 (IPv6), the unit of the token's
// IP-prefix binding, rate limits and sign-in throttling, so that one host
// cannot dodge a limit by rotating addresses within its block. False for
// an invalid address.
func ClientPrefix(addr netip.Addr) (netip.Prefix, bool) {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return netip.Prefix{}, false
	}
	bits := 48
	if addr.Is4() {
		bits = 24
	}
	p, _ := addr.Prefix(bits) // cannot fail: a valid address, bits within its size
	return p, true
}
