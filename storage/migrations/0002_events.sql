-- Events: one row per accepted event. Every dashboard query reads one site's
-- date range, so the key starts with (site_id, day). event_id is a
-- deterministic hash of (site, page load, sequence, index): a re-sent event
-- gets the same key and ReplacingMergeTree folds the copies into one.

CREATE TABLE IF NOT EXISTS events (
    site_id         UUID,
    ts              DateTime('UTC'),
    event_id        UInt64,
    page_load_id    UUID,
    seq             UInt32,
    type            LowCardinality(String),
    name            LowCardinality(String),
    visitor_id      UInt64,
    session_id      UInt64,
    hostname        LowCardinality(String),
    pathname        String,
    title           String,
    referrer        String,
    source          LowCardinality(String),
    channel         LowCardinality(String),
    utm_source      LowCardinality(String),
    utm_medium      LowCardinality(String),
    utm_campaign    LowCardinality(String),
    utm_content     LowCardinality(String),
    utm_term        LowCardinality(String),
    country         LowCardinality(String),
    region          LowCardinality(String),
    city            LowCardinality(String),
    browser         LowCardinality(String),
    browser_version LowCardinality(String),
    os              LowCardinality(String),
    os_version      LowCardinality(String),
    device          LowCardinality(String),
    screen_width    UInt16,
    language        LowCardinality(String),
    timezone        LowCardinality(String),
    engagement_ms   UInt32,
    scroll_depth    UInt8,
    value           Float64,
    prop_keys       Array(String),
    prop_values     Array(String),
    verified        UInt8,
    score           UInt8,
    verdict         LowCardinality(String),
    class           LowCardinality(String),
    reasons         Array(String),
    ingest          LowCardinality(String)
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (site_id, toDate(ts), event_id);

-- Hard rejections are counted, never stored per request: a flood must not
-- fill the disk. SummingMergeTree adds up rows with the same key.
CREATE TABLE IF NOT EXISTS rejections (
    site_id UUID,
    minute  DateTime('UTC'),
    reason  LowCardinality(String),
    count   UInt64
) ENGINE = SummingMergeTree(count)
PARTITION BY toYYYYMM(minute)
ORDER BY (site_id, minute, reason);
