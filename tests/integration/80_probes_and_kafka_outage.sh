#!/usr/bin/env bash
# Readiness tells the truth, bad settings stop a service with a message that
# names them, and intake keeps accepting applications while Kafka is out of
# reach: they wait in the outbox and are published once it is back.
. "$(dirname "$0")/lib.sh"

note "a missing or malformed setting stops the service, naming it"
set +e
out=$(env -i PATH="$PATH" HC_DATABASE_URL="$(hc_db_url intake "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
	HC_PERSON_KEY_SECRET="$HC_PERSON_KEY_SECRET" timeout 10 "$HC_BUILD/bin/hc-intake" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "intake started without HC_PII_KEY"
grep -q 'HC_PII_KEY' <<<"$out" || fail "the error does not name HC_PII_KEY: $out"
set +e
out=$(env HC_DATABASE_URL="$(hc_db_url intake "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
	HC_HTTP_PORT=70000 timeout 10 "$HC_BUILD/bin/hc-intake" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q 'HC_HTTP_PORT' <<<"$out" || fail "a bad port was not refused by name: $out"

note "Kafka out of reach: live, not ready, still accepting"
tag="outage-$HC_TEST_RUN"
env HC_DATABASE_URL="$(hc_db_url intake "$HC_PG_DATABASE")" HC_KAFKA_BROKERS=127.0.0.1:9 \
	HC_KAFKA_TOPIC_PREFIX="$HC_KAFKA_TOPIC_PREFIX" HC_HTTP_PORT="$TEST_INTAKE_PORT" \
	setsid "$HC_BUILD/bin/hc-intake" </dev/null >>"$HC_TEST_TMP/intake.log" 2>&1 &
echo $! >"$HC_TEST_TMP/intake.pid"
_test_pids+=(intake)
wait_for "livez" 30 curl -fsS "$INTAKE/livez"
http GET "$INTAKE/readyz"
assert_eq "$STATUS" 503 "readyz without Kafka"
grep -q 'kafka' <<<"$(jq -r .detail <<<"$BODY")" || fail "readyz does not say what is missing: $BODY"
ids=()
for i in 1 2 3; do
	http POST "$INTAKE/v1/employer-applications" "$(application_json "$tag-$i" 420302 1 $((i + 60)))"
	assert_eq "$STATUS" 201 "accepted during the outage"
	ids+=("$(jq -r .id <<<"$BODY")")
done
sleep 2
assert_eq "$(sql "SELECT count(*) FROM intake.outbox o JOIN intake.employer_applications a ON a.id::text = o.key WHERE a.employer_name LIKE '$tag-%'")" 3 "held in the outbox"
svc_stop intake

note "Kafka back: published, queued, ready"
svc_start intake
svc_start review
for id in "${ids[@]}"; do
	wait_for "application $id queued" 60 curl -fsS "$REVIEW/v1/queue-items/$id"
done
http GET "$INTAKE/readyz"
assert_eq "$STATUS" 200 "readyz with Kafka"
echo passed
