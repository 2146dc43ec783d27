-- codegen: the code each person holds, its full history, and checkpoint
-- scans.  A code version exists only with the rule, version and evidence
-- that decided it (the database refuses one without them); a manual colour
-- exists only as a decided correction (decided_by 'correction:...').
CREATE TABLE code_versions (
    person_key    text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    version       integer NOT NULL CHECK (version > 0),
    colour        text NOT NULL CHECK (colour IN ('red', 'yellow', 'green')),
    pass          boolean NOT NULL,
    rule_id       text NOT NULL CHECK (rule_id <> ''),
    rule_version  integer NOT NULL CHECK (rule_version > 0),
    evidence      jsonb NOT NULL CHECK (jsonb_typeof(evidence) = 'array'
                                        AND jsonb_array_length(evidence) > 0),
    decided_by    text NOT NULL CHECK (decided_by = 'rules' OR decided_by LIKE 'correction:%'),
    assessment_id uuid NOT NULL,
    cause         text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (person_key, version),
    CHECK (NOT pass OR colour = 'green')
);

-- The current code of each person: the latest version, plus what the next
-- version is computed from.
CREATE TABLE codes (
    person_key    text PRIMARY KEY CHECK (person_key ~ '^[0-9a-f]{64}$'),
    masked_name   text NOT NULL,
    county_code   text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    version       integer NOT NULL,
    assessed_at   timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (person_key, version) REFERENCES code_versions (person_key, version)
        DEFERRABLE INITIALLY DEFERRED
);

-- Valid certificates per person, from certificate's events.
CREATE TABLE certificates (
    certificate_id uuid PRIMARY KEY,
    person_key     text NOT NULL,
    status         text NOT NULL CHECK (status IN ('valid', 'revoked'))
);
CREATE INDEX certificates_person ON certificates (person_key) WHERE status = 'valid';

CREATE TABLE scans (
    id            uuid PRIMARY KEY,
    checkpoint_id text NOT NULL,
    person_key    text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    temperature   numeric(3, 1) NOT NULL CHECK (temperature BETWEEN 30 AND 45),
    result        text NOT NULL CHECK (result IN ('passed', 'refused')),
    reason        text,
    code_version  integer,
    scanned_by    text,
    scanned_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX scans_person ON scans (person_key, scanned_at);
