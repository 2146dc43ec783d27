-- County review queues.  One row per employer application, in the queue of
-- the county headquarters where the employer is located.  The primary key on
-- application_id (with processed_events) keeps each application in its queue
-- exactly once, however often its event is delivered.

CREATE TABLE queue_items (
    application_id uuid PRIMARY KEY,
    event_id       text NOT NULL,
    county_code    text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    employer_name  text NOT NULL,
    credit_code    text NOT NULL,
    category       text NOT NULL,
    worker_count   integer NOT NULL CHECK (worker_count > 0),
    workers        jsonb NOT NULL,
    status         text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'approved', 'rejected')),
    submitted_at   timestamptz NOT NULL,
    received_at    timestamptz NOT NULL DEFAULT now(),
    due_at         timestamptz NOT NULL
);

CREATE INDEX queue_items_by_county ON queue_items (county_code, status, submitted_at, application_id);
