package evaluate

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// The evaluation's own network databases, generated at start-up: each kind
// of network a scenario can come from is a pool of addresses that the
// generated GeoLite2-ASN and GeoIP2-Anonymous-IP databases (or the hosting
// and Tor lists) classify that way. The ranges are labels in a test
// database, not claims about who holds them in the real world. Each sample
// gets its own /24 (or /48) where the pool allows, so that no two samples
// share a network and per-network signals (velocity, bursts) stay quiet
// unless a scenario asks for them.

// netRange is one block of a generated database.
type netRange struct {
	cidr  string
	asn   uint32 // 0: not in the ASN database
	org   string
	flags []string // GeoIP2-Anonymous-IP flags set on the block
}

var netRanges = []netRange{
	{cidr: "81.0.0.0/8", asn: 3320, org: "Deutsche Telekom AG"},
	{cidr: "2a02:8070::/32", asn: 3209, org: "Vodafone GmbH"},
	{cidr: "3.0.0.0/8", asn: 16509, org: "AMAZON-02"}, // a default hosting ASN
	{cidr: "2600:1f00::/24", asn: 16509, org: "AMAZON-02"},
	{cidr: "37.0.0.0/8", asn: 64501, org: "Example Hosting", flags: []string{"is_hosting_provider"}},
	{cidr: "45.0.0.0/8", asn: 9009, org: "M247 Europe SRL", flags: []string{"is_anonymous_vpn"}},
	{cidr: "185.220.0.0/16", asn: 60729, org: "Stiftung Erneuerbare Freiheit", flags: []string{"is_tor_exit_node"}},
	{cidr: "103.0.0.0/8", asn: 4134, org: "CHINANET-BACKBONE", flags: []string{"is_public_proxy"}},
	{cidr: "89.0.0.0/8", asn: 12389, org: "Rostelecom", flags: []string{"is_residential_proxy"}},
}

// Operator lists: data-centre CIDRs and Tor exits by file.
const (
	listedHosting = "147.75.0.0/16"
	listedTor     = "171.25.%d.193" // for 0..255, every one listed
)

// networks maps a scenario's network to the address of its i-th sample.
var networks = map[string]func(i int) netip.Addr{
	"residential": func(i int) netip.Addr {
		if i%4 == 3 { // a quarter on IPv6, each in its own /48
			return netip.MustParseAddr(fmt.Sprintf("2a02:8070:%x::%x", i%0x10000, 1+i%7))
		}
		return v4(81, i, 10)
	},
	"hosting": func(i int) netip.Addr {
		switch i % 4 { // each source of the hosting signal in turn
		case 0:
			return v4(3, i, 20) // ASN database, default hosting ASN
		case 1:
			return v4(37, i, 20) // Anonymous-IP is_hosting_provider
		case 2:
			return netip.MustParseAddr(fmt.Sprintf("147.75.%d.%d", i%256, 30+i/256%200)) // operator CIDR list
		default:
			return netip.MustParseAddr(fmt.Sprintf("2600:1f00:%x::20", i%0x10000))
		}
	},
	"vpn": func(i int) netip.Addr { return v4(45, i, 40) },
	"tor": func(i int) netip.Addr {
		if i%2 == 0 {
			return v4(185, i, 50) // Anonymous-IP is_tor_exit_node (185.220.x.50)
		}
		return netip.MustParseAddr(fmt.Sprintf(listedTor, i%256)) // exit list file
	},
	"public_proxy":      func(i int) netip.Addr { return v4(103, i, 60) },
	"residential_proxy": func(i int) netip.Addr { return v4(89, i, 70) },
}

// v4 returns a.x.y.host with x.y from i: a /24 of its own for each i below
// 65,536 (for 185 only the 185.220.0.0/16 block, so 256 /24s).
func v4(a, i, host int) netip.Addr {
	if a == 185 {
		return netip.AddrFrom4([4]byte{185, 220, byte(i), byte(host)})
	}
	return netip.AddrFrom4([4]byte{byte(a), byte(i >> 8), byte(i), byte(host)})
}

// netFiles are the generated files for collector.Config.
type netFiles struct {
	ASNDB, AnonymousIPDB, HostingCIDRs, TorExits string
}

// writeNetFiles writes the databases and lists into dir.
func writeNetFiles(dir string) (netFiles, error) {
	f := netFiles{
		ASNDB:         filepath.Join(dir, "GeoLite2-ASN.mmdb"),
		AnonymousIPDB: filepath.Join(dir, "GeoIP2-Anonymous-IP.mmdb"),
		HostingCIDRs:  filepath.Join(dir, "hosting.txt"),
		TorExits:      filepath.Join(dir, "tor-exits.txt"),
	}
	var asn, anon []mmdbEntry
	for _, r := range netRanges {
		if r.asn != 0 {
			asn = append(asn, mmdbEntry{r.cidr, mmdbtype.Map{
				"autonomous_system_number":       mmdbtype.Uint32(r.asn),
				"autonomous_system_organization": mmdbtype.String(r.org),
			}})
		}
		if len(r.flags) > 0 {
			m := mmdbtype.Map{"is_anonymous": mmdbtype.Bool(true)}
			for _, fl := range r.flags {
				m[mmdbtype.String(fl)] = mmdbtype.Bool(true)
			}
			anon = append(anon, mmdbEntry{r.cidr, m})
		}
	}
	var tor strings.Builder
	tor.WriteString("# generated Tor exit list\n")
	for i := range 256 {
		fmt.Fprintf(&tor, listedTor+"\n", i)
	}
	if err := writeMMDB(f.ASNDB, "GeoLite2-ASN", asn); err != nil {
		return f, err
	}
	if err := writeMMDB(f.AnonymousIPDB, "GeoIP2-Anonymous-IP", anon); err != nil {
		return f, err
	}
	if err := os.WriteFile(f.HostingCIDRs, []byte("# generated hosting list\n"+listedHosting+"\n"), 0o600); err != nil {
		return f, err
	}
	return f, os.WriteFile(f.TorExits, []byte(tor.String()), 0o600)
}

type mmdbEntry struct {
	cidr  string
	value mmdbtype.Map
}

// writeMMDB writes a MaxMind database of dbType with mmdbwriter, MaxMind's
// own writer (the reader side is what the collector uses in production).
func writeMMDB(path, dbType string, entries []mmdbEntry) error {
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, RecordSize: 24})
	if err != nil {
		return fmt.Errorf("evaluate: %s: %w", dbType, err)
	}
	for _, e := range entries {
		_, n, err := net.ParseCIDR(e.cidr)
		if err != nil {
			return fmt.Errorf("evaluate: %s: %w", dbType, err)
		}
		if err := tree.Insert(n, e.value); err != nil {
			return fmt.Errorf("evaluate: %s: insert %s: %w", dbType, e.cidr, err)
		}
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := tree.WriteTo(out); err != nil {
		out.Close()
		return fmt.Errorf("evaluate: write %s: %w", path, err)
	}
	return out.Close()
}

// Address is the i-th address of a kind of network ("residential",
// "hosting", "vpn", "tor", "public_proxy", "residential_proxy"), as the
// replay hands them out; the zero Addr for an unknown kind.
func Address(network string, i int) netip.Addr {
	if f, ok := networks[network]; ok {
		return f(i)
	}
	return netip.Addr{}
}
