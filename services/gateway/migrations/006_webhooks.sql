-- Callbacks to partner apps.  person_clients: the people who applied through
-- each client (from declarations), so that a partner hears only of its own.
-- A delivery is one event for one subscription (unique), retried with
-- backoff until delivered or 24 hours old.
CREATE TABLE person_clients (
    person_key text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    client     text NOT NULL,
    PRIMARY KEY (person_key, client)
);

-- application_clients: which client submitted each employer application.
CREATE TABLE application_clients (
    application_id uuid PRIMARY KEY,
    client         text NOT NULL
);

CREATE TABLE webhook_subscriptions (
    id         uuid PRIMARY KEY,
    client     text NOT NULL REFERENCES api_clients (id),
    url        text NOT NULL CHECK (url ~ '^https?://[^[:space:]]+$' AND length(url) <= 500),
    events     text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 8),
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
-- one live subscription per client and URL: subscribing again replaces its events
CREATE UNIQUE INDEX webhook_subscriptions_url ON webhook_subscriptions (client, url)
    WHERE deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
    event_id        text NOT NULL,
    event_type      text NOT NULL,
    payload         text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_at         timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    UNIQUE (subscription_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at) WHERE status = 'pending';
