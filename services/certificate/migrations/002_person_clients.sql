-- Which API clients a person applied through (from declarations): a
-- partner app reads the certificates of those people only.
CREATE TABLE person_clients (
    person_key text NOT NULL CHECK (person_key ~ '^[0-9a-f]{64}$'),
    client     text NOT NULL,
    PRIMARY KEY (person_key, client)
);
