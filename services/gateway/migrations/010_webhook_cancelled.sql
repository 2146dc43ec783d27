-- A deleted subscription's deliveries still pending are cancelled with it
-- (routes/webhooks.c): a partner that unsubscribes hears nothing more there.
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_status_check;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_status_check
    CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled'));
