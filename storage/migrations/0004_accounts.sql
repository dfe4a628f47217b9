-- Dashboard accounts: sign-in sessions, member invitations and TOTP
-- two-factor keys. Like the
-- metadata tables, one row per version of an object (ReplacingMergeTree,
-- read with FINAL); revoking or accepting writes a new version. Only hashes
-- of the secrets are stored: the session token lives in the browser's
-- cookie, the invite token in the invite link.

CREATE TABLE IF NOT EXISTS sessions (
    session_hash String,
    user_id      UUID,
    created_at   DateTime('UTC'),
    expires_at   DateTime('UTC'),
    pending      UInt8,
    revoked      UInt8,
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY session_hash;

CREATE TABLE IF NOT EXISTS invites (
    invite_id   UUID,
    invite_hash String,
    tenant_id   UUID,
    email       String,
    role        LowCardinality(String),
    created_by  UUID,
    created_at  DateTime('UTC'),
    expires_at  DateTime('UTC'),
    state       LowCardinality(String),
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY invite_id;

CREATE TABLE IF NOT EXISTS totp (
    user_id    UUID,
    secret     String,
    enabled    UInt8,
    last_step  UInt64,
    created_at DateTime('UTC'),
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id;
