package evaluate

import (
	"net/netip"
	"testing"

	"github.com/verityhq/verity/abuse"
)

// The generated databases and lists, read by the collector's own
// abuse.Network, classify each kind of network's addresses as that kind,
// and no two samples of a kind share a /24 or /48 (except where a pool is
// smaller, and then only past its size).
func TestGeneratedNetworksClassify(t *testing.T) {
	files, err := writeNetFiles(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n, err := abuse.NewNetwork(abuse.NetworkConfig{ASNDB: files.ASNDB, AnonymousIPDB: files.AnonymousIPDB, HostingCIDRs: files.HostingCIDRs, TorExits: files.TorExits})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	want := map[string]abuse.NetClass{
		"residential":       {},
		"hosting":           {Hosting: true},
		"vpn":               {VPN: true},
		"tor":               {Tor: true},
		"public_proxy":      {PublicProxy: true},
		"residential_proxy": {ResidentialProxy: true},
	}
	for kind, w := range want {
		prefixes := map[netip.Prefix]bool{}
		for i := range 256 {
			ip := Address(kind, i)
			got := n.Classify(ip)
			got.ASN, got.ASOrg = 0, ""
			if got != w {
				t.Errorf("%s #%d %s: %+v, want %+v", kind, i, ip, got, w)
			}
			bits := 24
			if ip.Is6() {
				bits = 48
			}
			p, _ := ip.Prefix(bits)
			if prefixes[p] {
				t.Errorf("%s #%d %s: network %s used twice", kind, i, ip, p)
			}
			prefixes[p] = true
		}
	}
	if Address("nowhere", 1).IsValid() {
		t.Error("an unknown network kind has an address")
	}
}
