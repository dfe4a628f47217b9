// Package storage owns everything Verity keeps in ClickHouse: the schema and
// its migrations, the row types (events, rejection counters, tenants, users,
// sites), the batch writer with its on-disk spool, and the queries.
//
// Callers (cmd, collector, dashboard) use intent-level methods such as
// InsertEvents, CreateSite or TopPages; no raw connection leaves the package.
// Every query on event data is bound to one site id.
package storage
