-- Idempotency-Key in the service that takes effect (common/svc/idem.c),
-- created in every service's schema.  The gateway forwards a client's key
-- with its request; the service claims it in the same transaction as the
-- request's effect, so a retry after the gateway gave up waiting (504) finds
-- the key taken and gets the first answer again instead of a second effect.
-- A row without a status is an effect committed whose answer is not kept
-- yet.  Rows older than 24 hours no longer bind their key.
CREATE TABLE request_keys (
    client       text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
    status       integer,
    content_type text,
    location     text,
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client, key)
);
CREATE INDEX request_keys_created ON request_keys (created_at);
