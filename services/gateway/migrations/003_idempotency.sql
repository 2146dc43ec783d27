-- Idempotency keys: per client and key, the request's hash and, once it
-- has run, the first response (status, type, Location, body), replayed for
-- a retry.  A row without a status is a request still running.  Rows older
-- than 24 hours no longer bind their key.
CREATE TABLE idempotency_records (
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
CREATE INDEX idempotency_records_created ON idempotency_records (created_at);
