-- People waiting to be re-assessed after a record that touches many of them
-- (a county turning high-risk): queued in the transaction that stores the
-- record, taken by the service's re-assessment workers a chunk at a time,
-- each chunk deleted in the transaction that writes its assessments.  So a
-- crash leaves the rest queued, never lost and never applied twice.
CREATE TABLE reassessments (
    id           bigserial PRIMARY KEY,
    person_key   text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    trigger_kind text NOT NULL,
    trigger_id   text NOT NULL,
    traceparent  text NOT NULL,
    queued_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION reassessments_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hc_reassess_' || TG_TABLE_SCHEMA, '');
    RETURN NULL;
END $$;
CREATE TRIGGER reassessments_notify AFTER INSERT ON reassessments
    FOR EACH STATEMENT EXECUTE FUNCTION reassessments_notify();
