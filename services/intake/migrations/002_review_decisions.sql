-- The county's decision on an application, as review published it.
ALTER TABLE employer_applications
    ADD COLUMN opinion    text,
    ADD COLUMN decided_at timestamptz;
