-- The relay deletes an outbox row once its delivery report says PERSISTED,
-- instead of marking it published and keeping it a day: the record is then
-- in Kafka's log, which is the system's memory.  Marking rewrote every row
-- (a new tuple with its payload, new entries in both unique indexes); a
-- delete only marks the tuple.  Every row left in the outbox is unpublished.

DELETE FROM outbox WHERE published_at IS NOT NULL;
DROP INDEX outbox_unpublished;
ALTER TABLE outbox DROP COLUMN published_at;
