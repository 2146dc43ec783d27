-- A claim (a request still running) holds its key until its deadline: the
-- claiming gateway's upstream timeout and 5 seconds more, by which that
-- gateway has answered and finished the claim unless it died.  A claim
-- left by a gateway that died is then released, so a retry is forwarded
-- (the owning service answers it from its own record of the key).  Claims
-- without a deadline (made before this migration) keep the 5 minutes.
ALTER TABLE idempotency_records ADD COLUMN claimed_until timestamptz;
