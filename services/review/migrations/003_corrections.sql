-- Correction requests: reviewed by the county headquarters, then re-reviewed
-- by the city headquarters, by two different reviewers (the database refuses
-- a city decision by the county's reviewer).
CREATE TABLE corrections (
    correction_id     uuid PRIMARY KEY,
    event_id          text NOT NULL,
    person_key        text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    county_code       text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    reason            text NOT NULL,
    status            text NOT NULL DEFAULT 'pending_county'
                      CHECK (status IN ('pending_county', 'pending_city', 'approved', 'rejected')),
    county_reviewer   text,
    county_opinion    text,
    county_decided_at timestamptz,
    city_reviewer     text,
    city_opinion      text,
    city_decided_at   timestamptz,
    filed_at          timestamptz NOT NULL,
    received_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (status = 'pending_county' OR county_reviewer IS NOT NULL),
    CHECK (city_reviewer IS NULL OR city_reviewer <> county_reviewer),
    CHECK (status <> 'approved' OR city_reviewer IS NOT NULL)
);
CREATE INDEX corrections_county ON corrections (county_code, status, filed_at);
