-- County decisions: approve or reject with a written opinion, by a named
-- reviewer.  A decided item keeps its decision; the CHECK makes a decision
-- without its opinion, reviewer and time impossible.
ALTER TABLE queue_items
    ADD COLUMN opinion    text,
    ADD COLUMN reviewer   text,
    ADD COLUMN decided_at timestamptz,
    ADD CONSTRAINT queue_items_decision_complete CHECK (
        (status = 'pending' AND opinion IS NULL AND reviewer IS NULL AND decided_at IS NULL)
        OR (status <> 'pending' AND opinion IS NOT NULL AND reviewer IS NOT NULL
            AND decided_at IS NOT NULL));
