package enrich

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
	"github.com/oschwald/geoip2-golang/v2"
)

// geoRecord is one network of a test database, in the GeoIP2-City layout
// geoip2-golang decodes: country.iso_code, subdivisions[].iso_code and
// .names.en, city.names.en.
type geoRecord struct {
	cidr                       string
	country, subdivision, city string
	subdivisionName            string
}

func (r geoRecord) value() mmdbtype.Map {
	names := func(en string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(en)} }
	m := mmdbtype.Map{
		"country":            mmdbtype.Map{"iso_code": mmdbtype.String(r.country), "names": names("Country " + r.country)},
		"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String(r.country)},
	}
	if r.subdivision != "" || r.subdivisionName != "" {
		sub := mmdbtype.Map{}
		if r.subdivision != "" {
			sub["iso_code"] = mmdbtype.String(r.subdivision)
		}
		if r.subdivisionName != "" {
			sub["names"] = names(r.subdivisionName)
		}
		// A second, smaller subdivision: Lookup must take the first.
		m["subdivisions"] = mmdbtype.Slice{sub, mmdbtype.Map{"iso_code": mmdbtype.String("ZZZ"), "names": names("Smaller")}}
	}
	if r.city != "" {
		m["city"] = mmdbtype.Map{"names": names(r.city), "geoname_id": mmdbtype.Uint32(1)}
	}
	return m
}

var testGeoRecords = []geoRecord{
	{cidr: "81.2.69.128/26", country: "DE", subdivision: "BE", subdivisionName: "Berlin", city: "Berlin"},
	{cidr: "89.160.20.112/28", country: "SE", subdivision: "E", subdivisionName: "Östergötland County", city: "Linköping"},
	{cidr: "2a02:8070::/32", country: "DE", subdivision: "BY", subdivisionName: "Bavaria", city: "München"},
	{cidr: "2001:480::/32", country: "US", subdivision: "CA", subdivisionName: "California", city: "San Diego"},
	// Country only, as in a Country database or a coarse City record.
	{cidr: "1.0.0.0/24", country: "AU"},
	// A subdivision without an ISO code gives no Region.
	{cidr: "175.16.199.0/24", country: "CN", subdivisionName: "Jilin Sheng", city: "Changchun"},
	// Reserved networks the database should never be asked about: if
	// Lookup did, these would answer.
	{cidr: "10.0.0.0/8", country: "XX", subdivision: "PRV", city: "Private"},
	{cidr: "fd00::/8", country: "XX", subdivision: "ULA", city: "Private"},
	{cidr: "127.0.0.0/8", country: "XX", subdivision: "LO", city: "Loopback"},
}

// writeMMDB writes a database of type dbType holding records into dir.
func writeMMDB(t testing.TB, dbType string, records []geoRecord) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		Languages:               []string{"en"},
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
		if err := tree.Insert(network, r.value()); err != nil {
			t.Fatalf("insert %s: %v", r.cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), dbType+".mmdb")
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
	return path
}

func openTestGeo(t testing.TB, dbType string) *GeoLookup {
	t.Helper()
	g, err := OpenGeo(writeMMDB(t, dbType, testGeoRecords))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Error(err)
		}
	})
	return g
}

func TestGeoLookup(t *testing.T) {
	t.Parallel()
	path := writeMMDB(t, "GeoIP2-City", testGeoRecords)
	// The database really answers for the reserved networks, so the zero
	// Geo below comes from Lookup's filter.
	raw, err := geoip2.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"10.1.2.3", "127.0.0.1", "fd12:3456::1"} {
		rec, err := raw.City(netip.MustParseAddr(ip))
		if err != nil || rec.Country.ISOCode != "XX" {
			t.Fatalf("test database: City(%s) = %+v, %v; want country XX", ip, rec, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := OpenGeo(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for _, tc := range []struct {
		ip   string
		want Geo
	}{
		{"81.2.69.142", Geo{Country: "DE", Region: "DE-BE", City: "Berlin"}},
		{"81.2.69.191", Geo{Country: "DE", Region: "DE-BE", City: "Berlin"}}, // last of the /26
		{"89.160.20.115", Geo{Country: "SE", Region: "SE-E", City: "Linköping"}},
		{"2a02:8070:1234::1", Geo{Country: "DE", Region: "DE-BY", City: "München"}},
		{"2001:480::cafe", Geo{Country: "US", Region: "US-CA", City: "San Diego"}},
		{"::ffff:81.2.69.142", Geo{Country: "DE", Region: "DE-BE", City: "Berlin"}}, // IPv4-mapped
		{"fe80::1%eth0", Geo{}}, // zone, link-local
		{"1.0.0.1", Geo{Country: "AU"}},
		{"175.16.199.10", Geo{Country: "CN", City: "Changchun"}},
		// Misses: not in the database.
		{"81.2.69.192", Geo{}}, // just past the /26
		{"8.8.8.8", Geo{}},
		{"2001:4860:4860::8888", Geo{}},
		// Never looked up, although the test database has them.
		{"127.0.0.1", Geo{}},
		{"::1", Geo{}},
		{"10.1.2.3", Geo{}},
		{"::ffff:10.1.2.3", Geo{}},
		{"fd12:3456::1", Geo{}},
		{"192.168.1.1", Geo{}},
		{"169.254.1.1", Geo{}},
		{"0.0.0.0", Geo{}},
		{"::", Geo{}},
		{"224.0.0.1", Geo{}},
		{"ff02::1", Geo{}},
		{"255.255.255.255", Geo{}},
	} {
		if got := g.Lookup(netip.MustParseAddr(tc.ip)); got != tc.want {
			t.Errorf("Lookup(%s) = %+v, want %+v", tc.ip, got, tc.want)
		}
	}
	if got := g.Lookup(netip.Addr{}); got != (Geo{}) {
		t.Errorf("Lookup(invalid) = %+v, want zero", got)
	}
}

func TestGeoCountryDatabase(t *testing.T) {
	t.Parallel()
	// A Country database has no subdivisions or cities; ours is written
	// with the same records, and geoip2's City lookup is allowed on it.
	country := make([]geoRecord, 0, len(testGeoRecords))
	for _, r := range testGeoRecords {
		country = append(country, geoRecord{cidr: r.cidr, country: r.country})
	}
	g, err := OpenGeo(writeMMDB(t, "GeoLite2-Country", country))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if got, want := g.Lookup(netip.MustParseAddr("2a02:8070::1")), (Geo{Country: "DE"}); got != want {
		t.Errorf("Lookup = %+v, want %+v", got, want)
	}
}

func TestGeoDisabled(t *testing.T) {
	t.Parallel()
	g, err := OpenGeo("")
	if err != nil {
		t.Fatalf("OpenGeo(\"\") = %v, want a disabled lookup", err)
	}
	for _, ip := range []string{"81.2.69.142", "2a02:8070::1", "127.0.0.1"} {
		if got := g.Lookup(netip.MustParseAddr(ip)); got != (Geo{}) {
			t.Errorf("disabled Lookup(%s) = %+v, want zero", ip, got)
		}
	}
	if err := g.Close(); err != nil {
		t.Errorf("Close of disabled lookup = %v", err)
	}
	var nilGeo *GeoLookup
	if got := nilGeo.Lookup(netip.MustParseAddr("81.2.69.142")); got != (Geo{}) {
		t.Errorf("nil Lookup = %+v, want zero", got)
	}
	if err := nilGeo.Close(); err != nil {
		t.Errorf("nil Close = %v", err)
	}
}

func TestOpenGeoErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a maxmind database"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.mmdb")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "missing.mmdb"), "no such file"},
		{"empty", empty, "empty"},
		{"garbage", garbage, "enrich: open geoip database"},
		{"ASN database", writeMMDB(t, "GeoLite2-ASN", nil), "is a GeoLite2-ASN database; want a City or Country one"},
		{"unknown type", writeMMDB(t, "Verity-Test", nil), "Verity-Test"},
	} {
		g, err := OpenGeo(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: OpenGeo = %v, %v; want error containing %q", tc.name, g, err, tc.want)
		}
		if g != nil {
			t.Errorf("%s: OpenGeo returned a lookup with its error", tc.name)
		}
	}
}

func TestGeoClose(t *testing.T) {
	t.Parallel()
	g, err := OpenGeo(writeMMDB(t, "GeoIP2-City", testGeoRecords))
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("81.2.69.142")
	if g.Lookup(ip) == (Geo{}) {
		t.Fatal("lookup before Close found nothing")
	}
	if err := g.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if got := g.Lookup(ip); got != (Geo{}) {
		t.Errorf("Lookup after Close = %+v, want zero", got)
	}
	if err := g.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

// TestGeoConcurrentClose runs lookups on several goroutines and closes the
// database under them: with -race, and without faulting on the unmapped
// file.
func TestGeoConcurrentClose(t *testing.T) {
	t.Parallel()
	g, err := OpenGeo(writeMMDB(t, "GeoIP2-City", testGeoRecords))
	if err != nil {
		t.Fatal(err)
	}
	want := Geo{Country: "DE", Region: "DE-BY", City: "München"}
	ip := netip.MustParseAddr("2a02:8070::1")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			closed := false
			for range 2000 {
				switch got := g.Lookup(ip); {
				case got == want && !closed:
				case got == (Geo{}):
					closed = true // once closed, it stays closed
				default:
					t.Errorf("Lookup = %+v (closed seen: %v)", got, closed)
					return
				}
			}
		})
	}
	if err := g.Close(); err != nil {
		t.Error(err)
	}
	wg.Wait()
}

func BenchmarkGeoLookup(b *testing.B) {
	g := openTestGeo(b, "GeoIP2-City")
	ip := netip.MustParseAddr("81.2.69.142")
	want := Geo{Country: "DE", Region: "DE-BE", City: "Berlin"}
	b.ReportAllocs()
	for b.Loop() {
		if got := g.Lookup(ip); got != want {
			b.Fatalf("Lookup = %+v", got)
		}
	}
}
