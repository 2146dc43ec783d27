-- Employer return-to-work applications and the workers they list.
-- Names, resident ID numbers and phones are sealed (AES-256-GCM, app-level)
-- and never leave this schema; other services know a worker only by the
-- pseudonymous person key and a masked name.

CREATE TABLE employer_applications (
    id            uuid PRIMARY KEY,
    employer_name text NOT NULL,
    credit_code   text NOT NULL,
    county_code   text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    category      text NOT NULL CHECK (category IN ('epidemic_prevention', 'public_utilities',
                                                    'daily_necessities', 'key_enterprise')),
    status        text NOT NULL DEFAULT 'submitted'
                  CHECK (status IN ('submitted', 'approved', 'rejected')),
    worker_count  integer NOT NULL CHECK (worker_count > 0),
    submitted_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX employer_applications_credit_code ON employer_applications (credit_code);

CREATE TABLE application_workers (
    application_id     uuid NOT NULL REFERENCES employer_applications (id),
    position           integer NOT NULL,
    person_key         text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    masked_name        text NOT NULL,
    name_sealed        text NOT NULL,
    resident_id_sealed text NOT NULL,
    phone_sealed       text NOT NULL,
    PRIMARY KEY (application_id, position),
    UNIQUE (application_id, person_key)
);

CREATE INDEX application_workers_person ON application_workers (person_key);
