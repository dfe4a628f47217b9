-- Per-site rules and retroactive quarantines (docs/abuse.md), and the
-- autonomous system of each event's network, which both can match on.
-- Rules and quarantines are metadata: ReplacingMergeTree(version), read with
-- FINAL. Removing a rule or revoking a quarantine inserts a new version
-- (deleted = 1, revoked = 1), so their history stays; the audit log says who.

CREATE TABLE IF NOT EXISTS site_rules (
    site_id    UUID,
    rule_id    UUID,
    action     LowCardinality(String),
    kind       LowCardinality(String),
    value      String,
    note       String,
    created_by String,
    created_at DateTime('UTC'),
    deleted    UInt8,
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, rule_id);

-- A quarantine marks a site's events with from_ts <= ts < to_ts that match
-- (kind, value) as invalid. Events are never changed: queries apply the
-- quarantines that are not revoked when they count.
CREATE TABLE IF NOT EXISTS quarantines (
    site_id       UUID,
    quarantine_id UUID,
    from_ts       DateTime('UTC'),
    to_ts         DateTime('UTC'),
    kind          LowCardinality(String),
    value         String,
    note          String,
    created_by    String,
    created_at    DateTime('UTC'),
    revoked       UInt8,
    version       UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, quarantine_id);

-- 0 for events stored before this column existed (and when unknown).
ALTER TABLE events {{.AddColumn}} asn UInt32;
