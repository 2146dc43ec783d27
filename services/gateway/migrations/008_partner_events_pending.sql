-- Partner events (code changes, certificates, correction decisions) of people
-- no client is linked to yet.  The declaration that links a person to the
-- partner that submitted it comes on another topic than the events it causes,
-- so the gateway may read a code change before that declaration; the event
-- waits here and is delivered when the link arrives.  Kept one hour.
CREATE TABLE partner_events_pending (
    event_id    text PRIMARY KEY,
    person_key  text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    event_type  text NOT NULL,
    payload     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partner_events_pending_person ON partner_events_pending (person_key);
CREATE INDEX partner_events_pending_age ON partner_events_pending (received_at);
