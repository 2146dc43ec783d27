-- Request signing (RFC 9421): the public keys each client signs with, and
-- the nonces seen (kept 10 minutes, twice the 300-second window).
CREATE TABLE client_keys (
    client     text NOT NULL REFERENCES api_clients (id),
    kid        text NOT NULL CHECK (kid ~ '^[A-Za-z0-9_-]{1,40}$'),
    public_der bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (client, kid)
);

CREATE TABLE request_nonces (
    client  text NOT NULL,
    nonce   text NOT NULL,
    seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client, nonce)
);
CREATE INDEX request_nonces_seen ON request_nonces (seen_at);
