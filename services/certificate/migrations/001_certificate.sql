-- certificate: health certificates issued by the county of residence (the
-- employer's county for workers from outside the province) and vehicle
-- passes for point-to-point chartered vehicles.  It keeps what it needs of
-- other services' events: employer applications and their workers (person
-- keys only), decisions, and each person's latest assessment.
CREATE TABLE applications (
    application_id uuid PRIMARY KEY,
    county_code    text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    status         text NOT NULL DEFAULT 'submitted'
                   CHECK (status IN ('submitted', 'approved', 'rejected')),
    workers_known  boolean NOT NULL DEFAULT false
);

CREATE TABLE application_workers (
    application_id uuid NOT NULL REFERENCES applications (application_id),
    person_key     text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    PRIMARY KEY (application_id, person_key)
);
CREATE INDEX application_workers_person ON application_workers (person_key);

CREATE TABLE people (
    person_key      text PRIMARY KEY CHECK (person_key ~ '^[0-9a-f]{64}$'),
    county_code     text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    colour          text NOT NULL CHECK (colour IN ('red', 'yellow', 'green')),
    isolation_until date,
    assessment_id   uuid NOT NULL,
    assessed_at     timestamptz NOT NULL
);

CREATE TABLE certificates (
    id             uuid PRIMARY KEY,
    person_key     text NOT NULL REFERENCES people (person_key),
    application_id uuid NOT NULL REFERENCES applications (application_id),
    county_code    text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    assessment_id  uuid NOT NULL,
    status         text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    issued_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at     timestamptz,
    revoke_reason  text,
    CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
-- one valid certificate per person and application
CREATE UNIQUE INDEX certificates_valid ON certificates (person_key, application_id)
    WHERE status = 'valid';

CREATE TABLE vehicle_passes (
    id            uuid PRIMARY KEY,
    plate         text NOT NULL,
    from_county   text NOT NULL CHECK (from_county ~ '^[0-9]{6}$'),
    to_county     text NOT NULL CHECK (to_county ~ '^[0-9]{6}$'),
    travel_date   date NOT NULL,
    status        text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
    submitted_by  text,
    issued_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at    timestamptz,
    revoke_reason text
);

CREATE TABLE vehicle_pass_riders (
    pass_id    uuid NOT NULL REFERENCES vehicle_passes (id),
    person_key text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    role       text NOT NULL CHECK (role IN ('driver', 'passenger')),
    position   integer NOT NULL,
    PRIMARY KEY (pass_id, person_key)
);
CREATE INDEX vehicle_pass_riders_person ON vehicle_pass_riders (person_key);
