// Package enrich turns what an ingest request says about its sender into the
// fields stored with every event: the User-Agent becomes browser, OS, device
// class and a bot flag (UAParser), and the client IP becomes country, region
// and city (GeoLookup), the page URL becomes host, path and campaign fields
// (ParsePage), and the referrer becomes a source and a channel
// (ClassifyReferrer). The daily visitor hash lives in the collector, which
// holds the keys.
//
// No raw IP address is kept: Lookup reads the address it is given and
// returns only the coarse location; nothing here stores, caches or logs it.
// User-Agent strings are kept only in memory, in a bounded cache of parse
// results (each truncated to 512 bytes), because parsing one costs ~2 ms.
//
// Only the collector (and cmd/verity, to build these from configuration)
// imports this package. It holds no package-level state; every value is
// safe for concurrent use.
package enrich
