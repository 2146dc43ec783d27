-- A record before its partition's log start can never be read again, by any
-- consumer: the purge (common/bus/consumer.c, consumer_purge) deletes the
-- rows of such records whichever consumer name wrote them, so a name retired
-- with an earlier release leaves no rows behind on the topics still read.
-- Found by position alone.
DROP INDEX processed_events_position;
CREATE INDEX processed_events_log_position ON processed_events (topic, partition, "offset");
