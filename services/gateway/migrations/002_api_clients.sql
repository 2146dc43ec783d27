-- API clients of the public API.  Each acts in one role; a county system is
-- bound to its county.  Only the SHA-256 of a key's secret is stored: the key
-- itself is shown once, when the client is created.
CREATE TABLE api_clients (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{2,39}$'),
    role        text NOT NULL
                CHECK (role IN ('provincial', 'partner', 'county', 'checkpoint', 'analyst')),
    county_code text CHECK (county_code ~ '^[0-9]{6}$'),
    key_hash    text NOT NULL CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role = 'county') = (county_code IS NOT NULL))
);
