-- processed_events rows are purged once their records leave the log
-- (common/bus/consumer.c, consumer_purge): found by consumer and position.
CREATE INDEX processed_events_position ON processed_events (consumer, topic, partition, "offset");
