-- The API client an application came through (the gateway's principal), so
-- a partner app sees only what it submitted.  NULL for internal callers.
ALTER TABLE employer_applications ADD COLUMN submitted_by text;
CREATE INDEX employer_applications_submitted_by ON employer_applications (submitted_by);
