package enrich

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"

	"github.com/oschwald/geoip2-golang/v2"
)

// Geo is what the events table stores about where a client IP is.
type Geo struct {
	// Country is the ISO 3166-1 alpha-2 code ("DE"), "" when unknown.
	Country string
	// Region is the ISO 3166-2 code of the largest subdivision, the country
	// code and the subdivision code joined by "-" ("DE-BE", "GB-ENG",
	// "US-CA"), "" when unknown. A code rather than a name: it is the same
	// in every language and database release, and names collide across
	// countries (Limburg is in NL and BE); the dashboard maps codes to
	// names for display.
	Region string
	// City is the English city name ("Berlin"), "" when unknown. Group by
	// (Country, Region, City): city names are not unique.
	City string
}

// GeoLookup maps client IPs to Geo with a MaxMind GeoIP2 or GeoLite2 City or
// Country database (or a DB-IP one in the same layout). It keeps no
// addresses. Safe for concurrent use, including Close during lookups.
type GeoLookup struct {
	// mu guards db: the database is memory-mapped, and reading it after
	// Close would fault, so Close takes the write lock and waits for
	// lookups in flight. nil db means geo is disabled or closed.
	mu sync.RWMutex
	db *geoip2.Reader
}

// OpenGeo opens a City or Country .mmdb file (memory-mapped). An empty path
// disables geo: the lookup returns zero Geo and never fails. Replace the
// file by renaming a new one over it (as geoipupdate does), never by
// rewriting it in place, and reopen to pick it up.
func OpenGeo(path string) (*GeoLookup, error) {
	if path == "" {
		return &GeoLookup{}, nil
	}
	db, err := geoip2.Open(path)
	if err != nil {
		if db != nil { // geoip2.Open returns the reader with an unknown-type error
			_ = db.Close()
		}
		return nil, fmt.Errorf("enrich: open geoip database %q: %w", path, err)
	}
	// Any address will do to ask whether this database answers City
	// lookups (an ASN or ISP database does not).
	if _, err := db.City(netip.IPv4Unspecified()); err != nil {
		_ = db.Close()
		var invalid geoip2.InvalidMethodError
		if errors.As(err, &invalid) {
			return nil, fmt.Errorf("enrich: geoip database %q is a %s database; want a City or Country one", path, invalid.DatabaseType)
		}
		return nil, fmt.Errorf("enrich: geoip database %q: %w", path, err)
	}
	return &GeoLookup{db: db}, nil
}

// Lookup returns the location of ip. Private, loopback, link-local,
// multicast, unspecified and invalid addresses, addresses the database does
// not know, a disabled or closed lookup and a nil *GeoLookup all give the
// zero Geo. An IPv4-mapped IPv6 address is looked up as IPv4.
func (g *GeoLookup) Lookup(ip netip.Addr) Geo {
	ip = ip.Unmap()
	if g == nil || !public(ip) {
		return Geo{}
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.db == nil {
		return Geo{}
	}
	// City works on Country databases too; it then finds no subdivision
	// or city. A decode error (a corrupt database) counts as unknown: the
	// event is still worth storing.
	rec, err := g.db.City(ip)
	if err != nil || rec == nil {
		return Geo{}
	}
	geo := Geo{Country: rec.Country.ISOCode, City: rec.City.Names.English}
	if len(rec.Subdivisions) > 0 && geo.Country != "" && rec.Subdivisions[0].ISOCode != "" {
		geo.Region = geo.Country + "-" + rec.Subdivisions[0].ISOCode
	}
	return geo
}

// public reports whether ip may have a location: it is valid and none of
// loopback, private (RFC 1918, RFC 4193), link-local, multicast or
// unspecified.
func public(ip netip.Addr) bool {
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate()
}

// Close releases the database. Lookups after Close return zero Geo; closing
// twice, or closing a disabled lookup, returns nil.
func (g *GeoLookup) Close() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.db == nil {
		return nil
	}
	err := g.db.Close()
	g.db = nil
	if err != nil {
		return fmt.Errorf("enrich: close geoip database: %w", err)
	}
	return nil
}
