-- matching: the big-data platform.  Reference records from the health data
-- sources, the colour rules as versioned data, the people it assesses (by
-- pseudonymous key: no ID number is ever stored here) and every assessment
-- with the rule and evidence behind it.

-- Where records come from.  Only a health source may feed a colour rule.
CREATE TABLE data_sources (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z_]{2,32}$'),
    health      boolean NOT NULL,
    description text NOT NULL
);
INSERT INTO data_sources (name, health, description) VALUES
    ('case_registry',      true,  'confirmed, suspected and asymptomatic cases (health commission)'),
    ('fever_clinic',       true,  'fever clinic visits'),
    ('contact_tracing',    true,  'close contacts under management'),
    ('isolation_registry', true,  'isolation periods, with their end date'),
    ('travel_records',     true,  'presence in a county on a date (carrier records)'),
    ('risk_areas',         true,  'risk level per county per date'),
    ('self_declaration',   true,  'flags derived from declarations and daily check-ins'),
    ('checkpoint',         true,  'fever measured at a checkpoint'),
    ('commerce',           false, 'purchase records: never a reason for a colour');

-- Colour rules: versioned data.  A rule reads records of its sources and
-- kinds no older than window_days; the first rule by priority with a match
-- decides the colour; the rule with no kinds is the default (green).
CREATE TABLE rules (
    rule_id     text NOT NULL CHECK (rule_id ~ '^[a-z0-9-]{2,48}$'),
    version     integer NOT NULL CHECK (version > 0),
    priority    integer NOT NULL,
    colour      text NOT NULL CHECK (colour IN ('red', 'yellow', 'green')),
    sources     text[] NOT NULL,
    kinds       text[] NOT NULL,
    window_days integer NOT NULL CHECK (window_days BETWEEN 0 AND 366),
    valid_from  timestamptz NOT NULL DEFAULT '2020-01-01',
    valid_to    timestamptz,
    description text NOT NULL,
    PRIMARY KEY (rule_id, version),
    CHECK (colour = 'green' OR cardinality(kinds) > 0)
);

-- Governance: a rule may read only allow-listed health sources.
CREATE FUNCTION rules_sources_allowed() RETURNS trigger LANGUAGE plpgsql
    SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(NEW.sources) s
               WHERE NOT EXISTS (SELECT 1 FROM data_sources d WHERE d.name = s AND d.health)) THEN
        RAISE EXCEPTION 'rule %/% reads a source that is not an allow-listed health source',
            NEW.rule_id, NEW.version USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER rules_sources_allowed BEFORE INSERT OR UPDATE ON rules
    FOR EACH ROW EXECUTE FUNCTION rules_sources_allowed();

INSERT INTO rules (rule_id, version, priority, colour, sources, kinds, window_days, description) VALUES
    ('confirmed-case', 1, 10, 'red', '{case_registry,fever_clinic}',
     '{confirmed,suspected,asymptomatic,fever}', 14,
     'a confirmed, suspected, asymptomatic or fever case: red for 14 days'),
    ('close-contact', 1, 20, 'yellow', '{contact_tracing}', '{close_contact}', 7,
     'a close contact under management: yellow for 7 days'),
    ('self-declared', 1, 30, 'yellow', '{self_declaration,checkpoint}', '{symptom,contact,fever}', 7,
     'a declared symptom or contact, or a fever at a checkpoint: yellow for 7 days'),
    ('risk-area', 1, 40, 'yellow', '{risk_areas,travel_records,self_declaration}',
     '{high_risk_residence,high_risk_travel,risk_travel}', 14,
     'residence in, or travel through, a high-risk county within 14 days: yellow'),
    ('no-risk', 1, 1000, 'green', '{}', '{}', 0, 'no record matched: green');

-- Reference records.  person_key is set for records about a person,
-- county_code for travel and risk levels.
CREATE TABLE records (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL REFERENCES data_sources (name),
    record_id   text NOT NULL CHECK (length(record_id) BETWEEN 1 AND 64),
    kind        text NOT NULL,
    person_key  text CHECK (person_key ~ '^[0-9a-f]{64}$'),
    county_code text CHECK (county_code ~ '^[0-9]{6}$'),
    on_date     date NOT NULL,
    until       date,
    level       text CHECK (level IN ('low', 'medium', 'high')),
    imported_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, record_id),
    CHECK (person_key IS NOT NULL OR kind = 'risk_level')
);
CREATE INDEX records_person ON records (person_key, on_date) WHERE person_key IS NOT NULL;
CREATE INDEX records_travel ON records (county_code, on_date) WHERE kind = 'travel';
CREATE INDEX records_risk ON records (county_code, on_date DESC, id DESC) WHERE kind = 'risk_level';

-- People matching has assessed: residence county from their latest
-- declaration or check-in, masked name for the code.
CREATE TABLE people (
    person_key  text PRIMARY KEY CHECK (person_key ~ '^[0-9a-f]{64}$'),
    masked_name text NOT NULL,
    county_code text NOT NULL CHECK (county_code ~ '^[0-9]{6}$'),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX people_county ON people (county_code);

-- Records a decided correction set aside for one person.
CREATE TABLE exclusions (
    person_key    text NOT NULL,
    record_id     bigint NOT NULL REFERENCES records (id),
    correction_id uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_key, record_id)
);

-- Every assessment: the colour, the rule and version that gave it, the
-- evidence (never empty), who decided, and what triggered it.
CREATE TABLE assessments (
    id              uuid PRIMARY KEY,
    person_key      text NOT NULL REFERENCES people (person_key),
    colour          text NOT NULL CHECK (colour IN ('red', 'yellow', 'green')),
    rule_id         text NOT NULL,
    rule_version    integer NOT NULL,
    evidence        jsonb NOT NULL CHECK (jsonb_typeof(evidence) = 'array'
                                          AND jsonb_array_length(evidence) > 0),
    decided_by      text NOT NULL,
    trigger_kind    text NOT NULL,
    trigger_id      text NOT NULL,
    isolation_until date,
    outcome_key     text NOT NULL,
    assessed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- a colour decided by people exists only as a decided correction
    CHECK (decided_by = 'rules' OR (decided_by LIKE 'correction:%' AND trigger_kind = 'correction')),
    FOREIGN KEY (rule_id, rule_version) REFERENCES rules (rule_id, version)
);
CREATE INDEX assessments_person ON assessments (person_key, assessed_at DESC);
