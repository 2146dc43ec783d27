-- The gateway's schema.  It will hold API clients, keys, nonces, idempotency
-- records and webhook subscriptions; today it holds only the bus tables
-- (created by common/bus) and this marker of the schema's version.
CREATE TABLE gateway_info (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO gateway_info DEFAULT VALUES;
