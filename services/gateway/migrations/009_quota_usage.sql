-- Quotas shared by the gateways (routes/quota.c).  Each gateway process
-- (a new id each start) adds to its own row of a client what it admitted
-- for that client, every HC_QUOTA_SYNC_MS, and takes out of its own bucket
-- what the other rows of the client gained.  Rows idle for an hour go.
CREATE TABLE quota_usage (
    client    text NOT NULL,
    gateway   uuid NOT NULL,
    taken     bigint NOT NULL CHECK (taken >= 0),
    synced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client, gateway)
);
CREATE INDEX quota_usage_synced ON quota_usage (synced_at);
