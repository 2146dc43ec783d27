-- Signing keys.  purpose 'code' signs the tokens people show; 'keylist'
-- (the platform's root) signs the key list offline checkpoint devices load.
-- Private keys are sealed (AES-256-GCM under HC_CODE_KEY_SECRET).  The
-- newest code key signs; a retired key verifies until not_after (its last
-- token's expiry); a revoked key verifies nothing.
CREATE TABLE signing_keys (
    kid            text PRIMARY KEY CHECK (kid ~ '^[0-9a-f]{16}$'),
    purpose        text NOT NULL CHECK (purpose IN ('code', 'keylist')),
    private_sealed text NOT NULL,
    public_der     text NOT NULL CHECK (public_der ~ '^[0-9a-f]+$'),
    not_before     timestamptz NOT NULL DEFAULT clock_timestamp(),
    not_after      timestamptz,
    revoked_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
