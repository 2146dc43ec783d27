-- Daily health check-ins and correction requests.  Health answers are
-- sealed like a declaration's; a correction's status follows the county's
-- and then the city's decision (consumed from review).
CREATE TABLE checkins (
    id            uuid PRIMARY KEY,
    person_key    text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    county_code   text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    health_sealed text NOT NULL,
    submitted_by  text,
    submitted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checkins_person ON checkins (person_key, submitted_at);

CREATE TABLE corrections (
    id             uuid PRIMARY KEY,
    person_key     text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    county_code    text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    reason         text NOT NULL,
    status         text NOT NULL DEFAULT 'filed'
                   CHECK (status IN ('filed', 'county_approved', 'approved', 'rejected')),
    county_opinion text,
    city_opinion   text,
    submitted_by   text,
    filed_at       timestamptz NOT NULL DEFAULT now(),
    decided_at     timestamptz
);
CREATE INDEX corrections_person ON corrections (person_key, filed_at);
