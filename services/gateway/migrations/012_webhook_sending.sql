-- A delivery's callback on its way: until when its attempt may still be
-- running (the claiming gateway's HC_WEBHOOK_TIMEOUT_MS and 5 s), cleared when
-- the attempt ends.  The claim counts a client's deliveries being sent by
-- every gateway, so HC_WEBHOOK_MAX_INFLIGHT bounds the callbacks to one
-- client across all of them (routes/webhooks.c).
ALTER TABLE webhook_deliveries ADD COLUMN sending_until timestamptz;
CREATE INDEX webhook_deliveries_sending ON webhook_deliveries (subscription_id)
    WHERE sending_until IS NOT NULL;
