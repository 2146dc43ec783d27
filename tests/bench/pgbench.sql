-- Baseline write transaction: one update and one insert, the shape of an
-- intake POST (application row + outbox row) without the service around it.
\set id random(1, 1000)
UPDATE bench_counter SET n = n + 1 WHERE id = :id;
INSERT INTO bench_log (counter_id, payload) VALUES (:id, repeat('x', 600));
