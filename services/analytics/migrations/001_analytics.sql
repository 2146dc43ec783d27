-- analytics: read models for analysts, filled from the event log only and
-- rebuildable from it (hc-replay project analytics.facts / analytics.codes).

-- One row per event that counts towards a daily figure (the event id makes
-- applying an event twice a no-op).  day is the local day (HC_ANALYTICS_TZ).
CREATE TABLE facts (
    event_id    text PRIMARY KEY,
    metric      text NOT NULL CHECK (metric IN ('declaration', 'checkin', 'code_issued',
                                                'colour_change', 'certificate_issued',
                                                'certificate_revoked', 'review_decided', 'scan')),
    county_code text NOT NULL CHECK (county_code ~ '^([0-9]{6})?$'),
    day         date NOT NULL,
    colour      text NOT NULL DEFAULT '' CHECK (colour IN ('', 'red', 'yellow', 'green')),
    refused     boolean NOT NULL DEFAULT false,
    late        boolean NOT NULL DEFAULT false,
    seconds     double precision
);
CREATE INDEX facts_by_day ON facts (day, county_code);

-- Every code version as published, for "what was the colour at time T, and why".
CREATE TABLE code_history (
    person_key   text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    version      integer NOT NULL CHECK (version > 0),
    county_code  text NOT NULL,
    colour       text NOT NULL CHECK (colour IN ('red', 'yellow', 'green')),
    pass         boolean NOT NULL,
    rule_id      text NOT NULL,
    rule_version integer NOT NULL,
    evidence     jsonb NOT NULL,
    decided_by   text NOT NULL,
    cause        text NOT NULL,
    changed_at   timestamptz NOT NULL,
    PRIMARY KEY (person_key, version)
);
CREATE INDEX code_history_at ON code_history (person_key, changed_at DESC, version DESC);

-- The current code of every person: the latest version published.
CREATE TABLE current_codes (
    person_key  text PRIMARY KEY CHECK (person_key ~ '^[0-9a-f]{64}$'),
    county_code text NOT NULL,
    version     integer NOT NULL,
    colour      text NOT NULL CHECK (colour IN ('red', 'yellow', 'green')),
    pass        boolean NOT NULL,
    changed_at  timestamptz NOT NULL
);
CREATE INDEX current_codes_county ON current_codes (county_code, colour);
