package abuse

import (
	_ "embed"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zone offsets without depending on the host's tzdata
)

//go:embed tzdata/zone.tab
var zoneTab string

// countryZones maps an ISO 3166 country code to its IANA zones.
var countryZones = func() map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(zoneTab, "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || strings.HasPrefix(line, "#") {
			continue
		}
		m[f[0]] = append(m[f[0]], f[2])
	}
	return m
}()

// farOffset is how far the page's clock must be from every zone of the
// IP's country: neighbours across a border, and zones named after another
// country's city, differ by an hour at most.
const farOffset = 3 * time.Hour

// maxUnknownZones bounds the cache of names that are not zones (a client
// can send any string of up to 64 characters). Real zones are always
// cached: there are about 600.
const maxUnknownZones = 1024

var (
	locations    sync.Map // zone name -> *time.Location (nil: unknown)
	unknownZones int
	unknownMu    sync.Mutex
)

// location loads a zone by name once; nil for unknown names, "UTC" and
// "Etc/..." zones, which say nothing about a place.
func location(name string) *time.Location {
	if v, ok := locations.Load(name); ok {
		return v.(*time.Location)
	}
	var loc *time.Location
	if name != "" && name != "UTC" && !strings.HasPrefix(name, "Etc/") && !strings.Contains(name, "..") {
		loc, _ = time.LoadLocation(name)
	}
	if loc != nil {
		locations.Store(name, loc)
		return loc
	}
	unknownMu.Lock()
	defer unknownMu.Unlock()
	if unknownZones < maxUnknownZones {
		locations.Store(name, loc)
		unknownZones++
	}
	return nil
}

func offset(loc *time.Location, at time.Time) time.Duration {
	_, sec := at.In(loc).Zone()
	return time.Duration(sec) * time.Second
}

// TimezoneMismatch reports a page whose time zone (the browser's IANA
// name) is three hours or more away, at time at, from every zone of the
// country its IP address is in: a machine in one place configured for
// another, as remote bots and farms often are. Travellers and VPN users
// show it too, so it weighs little. Unknown zones and countries say
// nothing.
func TimezoneMismatch(tz, country string, at time.Time) bool {
	zones := countryZones[country]
	page := location(tz)
	if len(zones) == 0 || page == nil {
		return false
	}
	p := offset(page, at)
	for _, z := range zones {
		loc := location(z)
		if loc == nil {
			return false // the table names a zone Go does not know: no verdict
		}
		if d := p - offset(loc, at); d < farOffset && d > -farOffset {
			return false
		}
	}
	return true
}
