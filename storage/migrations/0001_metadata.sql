-- Metadata: small tables, one row per version of an object. ReplacingMergeTree
-- keeps the row with the highest version; readers use FINAL. A delete is a new
-- version with deleted = 1, so the audit trail survives.

CREATE TABLE IF NOT EXISTS tenants (
    tenant_id  UUID,
    name       String,
    created_at DateTime('UTC'),
    deleted    UInt8,
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY tenant_id;

CREATE TABLE IF NOT EXISTS users (
    user_id       UUID,
    email         String,
    name          String,
    password_hash String,
    created_at    DateTime('UTC'),
    disabled      UInt8,
    version       UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id;

CREATE TABLE IF NOT EXISTS memberships (
    tenant_id  UUID,
    user_id    UUID,
    role       LowCardinality(String),
    created_at DateTime('UTC'),
    deleted    UInt8,
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant_id, user_id);

CREATE TABLE IF NOT EXISTS sites (
    site_id         UUID,
    tenant_id       UUID,
    name            String,
    domain          String,
    public_key      String,
    secret_hash     String,
    secret_version  UInt32,
    allowed_origins Array(String),
    retention_days  UInt16,
    respect_dnt     UInt8,
    created_at      DateTime('UTC'),
    deleted         UInt8,
    version         UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY site_id;

CREATE TABLE IF NOT EXISTS api_tokens (
    token_id   UUID,
    tenant_id  UUID,
    name       String,
    token_hash String,
    site_ids   Array(UUID),
    created_by UUID,
    created_at DateTime('UTC'),
    revoked    UInt8,
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY token_id;

CREATE TABLE IF NOT EXISTS audit_log (
    ts        DateTime('UTC'),
    tenant_id UUID,
    actor     String,
    action    LowCardinality(String),
    target    String,
    detail    String
) ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (tenant_id, ts);
