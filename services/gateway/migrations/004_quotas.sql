-- A client's own quota (token bucket): requests per second and burst.
-- NULL takes the gateway's defaults (HC_QUOTA_RATE, HC_QUOTA_BURST).
ALTER TABLE api_clients
    ADD COLUMN quota_rate  integer CHECK (quota_rate BETWEEN 1 AND 1000000),
    ADD COLUMN quota_burst integer CHECK (quota_burst BETWEEN 1 AND 1000000);
