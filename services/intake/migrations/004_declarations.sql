-- Personal health-code applications ("declarations"): a worker's basic
-- information and health status.  They start pending.  Name, ID number,
-- phone and the health answers are sealed and never leave this schema; the
-- submitted event carries the person key, a masked name and the county.
CREATE TABLE declarations (
    id                      uuid PRIMARY KEY,
    person_key              text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    masked_name             text NOT NULL,
    name_sealed             text NOT NULL,
    resident_id_sealed      text NOT NULL,
    phone_sealed            text NOT NULL,
    health_sealed           text NOT NULL,
    county_code             text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    employer_application_id uuid REFERENCES employer_applications (id),
    status                  text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending')),
    submitted_by            text,
    submitted_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX declarations_person ON declarations (person_key, submitted_at);
