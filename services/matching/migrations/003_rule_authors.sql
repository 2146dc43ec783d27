-- Rule versions published through the API (POST /v1/rules) say who
-- published them and when; the versions that came with the schema say
-- 'migration'.
ALTER TABLE rules
    ADD COLUMN created_by text NOT NULL DEFAULT 'migration',
    ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
