#!/usr/bin/env bash
# Regression: a database refusing one of our own statements (here: a
# privilege revoked under the service) once came back as 400
# validation-failed with the SQL error in the body, and a consumer would
# have dead-lettered a good record for it.  Now: HTTP answers 500 with the
# detail withheld (it is in the log), and the consumer stops, exit status
# non-zero, leaving the record unconsumed; once the fault is fixed a restart
# applies it and nothing reaches the dead-letter topic.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start review
grant() { sql "GRANT $1 ON review.queue_items TO review"; }
revoke() { sql "REVOKE $1 ON review.queue_items FROM review"; }
trap 'grant UPDATE; grant INSERT; _test_cleanup' EXIT

http POST "$INTAKE/v1/employer-applications" "$(application_json "dbref-$HC_TEST_RUN-1" 420107 1 91)"
a=$(jq -r .id <<<"$BODY")
wait_for "queued" 30 curl -fsS "$REVIEW/v1/queue-items/$a"

note "HTTP: a refused UPDATE is a 500 without SQL in the body"
revoke UPDATE
http POST "$REVIEW/v1/queue-items/$a/decision" '{"decision":"approve","opinion":"同意复工","reviewer":"r1"}'
grant UPDATE
assert_eq "$STATUS" 500 "status"
assert_eq "$(jq -r .code <<<"$BODY")" internal-error "code"
grep -qi 'permission\|queue_items\|review_decide' <<<"$BODY" && fail "the body leaks the database error: $BODY"
grep -q 'permission denied' "$HC_TEST_TMP/review.log" || fail "the log lacks the database error"
http GET "$REVIEW/v1/queue-items/$a"
assert_eq "$(jq -r .status <<<"$BODY")" pending "nothing decided"

note "consumer: a refused INSERT stops review; the record is kept"
revoke INSERT
http POST "$INTAKE/v1/employer-applications" "$(application_json "dbref-$HC_TEST_RUN-2" 420107 1 92)"
b=$(jq -r .id <<<"$BODY")
wait_exit review 15
[ "$EXIT_STATUS" -ne 0 ] || fail "review exited 0 after a fatal error"
note "review exited with status $EXIT_STATUS"
grant INSERT
svc_start review
wait_for "the kept record applied" 30 curl -fsS "$REVIEW/v1/queue-items/$b"
assert_eq "$(kafka_records "$TOPIC_APPLICATIONS.dlq" | grep -c "$b" || true)" 0 "dead letters for the good record"
echo passed
