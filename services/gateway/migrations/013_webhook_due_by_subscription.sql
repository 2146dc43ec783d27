-- The claim takes each client's due deliveries up to its free slots, oldest
-- first, one client at a time (routes/webhooks.c): by subscription and due
-- time, so that one client's backlog is not read to find another's.
CREATE INDEX webhook_deliveries_due_by_subscription ON webhook_deliveries (subscription_id, next_at)
    WHERE status = 'pending';
