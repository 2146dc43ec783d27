#!/usr/bin/env bash
# Idempotency-Key at the gateway: a retry gets the first response again,
# byte for byte, and creates nothing; the same key for another request is
# 422; a retry while the first still runs is 409; a first request the
# service could not take (503) releases the key; keys are per client.  A
# first request that took effect after the gateway gave up on it (504) is
# not taken again: the key travels on to the owning service, which claims
# it with the effect and answers a retry with its first answer, for an
# application (written alone) and a declaration (group-committed).  That
# answer is kept in the effect's own transaction: when keeping it fails, the
# effect is not committed either (a trigger on request_keys makes it fail),
# and the retry then takes effect once.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start gateway HC_UPSTREAM_TIMEOUT_MS=1000
PARTNER=$(gw_client idem-partner partner)
OTHER=$(gw_client idem-other partner)
tag="idem-$HC_TEST_RUN"
body=$(application_json "$tag" 420102 1 21)

post() { # post KEY IDEMPOTENCY-KEY BODY [PATH]: sets STATUS, BODY, HEADERS
	local out
	out=$(printf '%s' "$3" | curl -sS -D "$HC_TEST_TMP/headers" -H "Authorization: Bearer $1" \
		-H "Idempotency-Key: $2" -H 'Content-Type: application/json' --data-binary @- \
		-w '\n%{http_code}' "$GATEWAY${4:-/v1/employer-applications}")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	HEADERS=$(tr -d '\r' <"$HC_TEST_TMP/headers")
}
count() { sql "SELECT count(*) FROM intake.employer_applications WHERE employer_name = '$tag'"; }

note "records past 24 hours are purged (the first keyed request of each process purges)"
for t in gateway.idempotency_records intake.request_keys; do
	sql "INSERT INTO $t (client, key, request_hash, status, created_at) VALUES ('idem-old-$HC_TEST_RUN', 'old', repeat('0', 64), 201, now() - interval '25 hours')" >/dev/null
done
old_left() { sql "SELECT (SELECT count(*) FROM gateway.idempotency_records WHERE client = 'idem-old-$HC_TEST_RUN') + (SELECT count(*) FROM intake.request_keys WHERE client = 'idem-old-$HC_TEST_RUN')"; }
assert_eq "$(old_left)" 2 "old records before"

note "the first request and its retry"
post "$PARTNER" "k1-$HC_TEST_RUN" "$body"
assert_eq "$STATUS" 201 "first"
first=$BODY
post "$PARTNER" "k1-$HC_TEST_RUN" "$body"
assert_eq "$STATUS" 201 "retry"
assert_eq "$BODY" "$first" "the replayed body"
grep -qi '^Idempotent-Replayed: true' <<<"$HEADERS" || fail "the retry is not marked as replayed"
grep -qi "^Location: /v1/employer-applications/$(jq -r .id <<<"$first")" <<<"$HEADERS" || fail "Location not replayed"
assert_eq "$(count)" 1 "applications stored"
assert_eq "$(old_left)" 0 "old records after the first keyed request"
published_of() { [ "$(kafka_records "$TOPIC_APPLICATIONS" | grep -c "$1")" -ge 1 ]; }
wait_for "the event published" 30 published_of "$tag"
sleep 1 # a second event would show by now
assert_eq "$(kafka_records "$TOPIC_APPLICATIONS" | grep -c "$tag")" 1 "events published"

note "the same key for another request; another client's key space"
post "$PARTNER" "k1-$HC_TEST_RUN" "$(jq -c '.category = "daily_necessities"' <<<"$body")"
assert_eq "$STATUS $(jq -r .code <<<"$BODY")" "422 idempotency-key-reused" "another body"
post "$OTHER" "k1-$HC_TEST_RUN" "$body"
assert_eq "$STATUS" 201 "the same key of another client"
assert_eq "$(count)" 2 "applications stored"

note "a retry while the first still runs"
# a claim as the gateway makes it: the SHA-256 of method, path, query and body
hash=$(printf 'POST\n/v1/employer-applications\n\n%s' "$body" | sha256sum | cut -c1-64)
sql "INSERT INTO gateway.idempotency_records (client, key, request_hash) VALUES ('idem-partner-$HC_TEST_RUN', 'k2-$HC_TEST_RUN', '$hash')" >/dev/null
post "$PARTNER" "k2-$HC_TEST_RUN" "$body"
assert_eq "$STATUS $(jq -r .code <<<"$BODY")" "409 idempotency-key-in-flight" "in flight"

note "a key the service could not take is released"
svc_stop intake
post "$PARTNER" "k3-$HC_TEST_RUN" "$body"
assert_eq "$STATUS" 503 "intake down"
svc_start intake
post "$PARTNER" "k3-$HC_TEST_RUN" "$body"
assert_eq "$STATUS" 201 "after intake is back"
grep -qi '^Idempotent-Replayed' <<<"$HEADERS" && fail "a 503 was replayed"

note "a malformed key"
post "$PARTNER" "has space" "$body"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 Idempotency-Key" "malformed key"
assert_eq "$(count)" 3 "applications stored in all"

INTAKE_PID=$(cat "$HC_TEST_TMP/intake.pid")
# timed_out KEY BODY [PATH]: posts while intake hangs (504), then lets intake take it
timed_out() {
	kill -STOP "$INTAKE_PID"
	post "$PARTNER" "$1" "$2" "${3:-}"
	kill -CONT "$INTAKE_PID"
	assert_eq "$STATUS $(jq -r .code <<<"$BODY")" "504 upstream-timeout" "intake hanging"
}
count_is() { [ "$(count)" = "$1" ]; }

note "a first request that took effect after the gateway's 504: its retry gets intake's answer"
timed_out "k4-$HC_TEST_RUN" "$body"
wait_for "intake to take the request it held" 20 count_is 4
stored=$(sql "SELECT id FROM intake.employer_applications WHERE employer_name = '$tag' ORDER BY submitted_at DESC, id DESC LIMIT 1")
post "$PARTNER" "k4-$HC_TEST_RUN" "$body"
assert_eq "$STATUS" 201 "the retry after the 504"
assert_eq "$(jq -r .id <<<"$BODY")" "$stored" "the retry's answer names the application stored by the first"
grep -qi '^Idempotent-Replayed: true' <<<"$HEADERS" || fail "intake's replay is not marked as replayed"
grep -qi "^Location: /v1/employer-applications/$stored" <<<"$HEADERS" || fail "Location not replayed by intake"
first=$BODY
post "$PARTNER" "k4-$HC_TEST_RUN" "$body"
assert_eq "$STATUS $BODY" "201 $first" "the next retry, replayed by the gateway"
assert_eq "$(count)" 4 "applications stored after the retries"
wait_for "the application's event published" 30 published_of "$stored"
sleep 1 # a second event would show by now
assert_eq "$(kafka_records "$TOPIC_APPLICATIONS" | grep -c "$stored")" 1 "events of the application"

note "after a 504, the same key for another request is refused by intake"
timed_out "k5-$HC_TEST_RUN" "$body"
wait_for "intake to take the request it held" 20 count_is 5
post "$PARTNER" "k5-$HC_TEST_RUN" "$(jq -c '.category = "daily_necessities"' <<<"$body")"
assert_eq "$STATUS $(jq -r .code <<<"$BODY")" "422 idempotency-key-reused" "another body after the 504"
assert_eq "$(count)" 5 "applications stored"

note "a claim left by a gateway that died holding it lapses at its deadline (timeout and 5 s)"
kill -STOP "$INTAKE_PID"
printf '%s' "$body" | curl -sS -o /dev/null -H "Authorization: Bearer $PARTNER" -H "Idempotency-Key: k6-$HC_TEST_RUN" \
	-H 'Content-Type: application/json' --data-binary @- "$GATEWAY/v1/employer-applications" 2>/dev/null &
curl_pid=$!
claimed() { [ "$(sql "SELECT count(*) FROM gateway.idempotency_records WHERE key = 'k6-$HC_TEST_RUN' AND status IS NULL")" = 1 ]; }
wait_for "the gateway's claim" 10 claimed
assert_eq "$(sql "SELECT extract(epoch FROM claimed_until - created_at)::numeric(6,1) FROM gateway.idempotency_records WHERE key = 'k6-$HC_TEST_RUN'")" 6.0 \
	"the claim's deadline: the upstream timeout (1 s) and 5 s"
kill -9 "$(cat "$HC_TEST_TMP/gateway.pid")"
wait "$curl_pid" 2>/dev/null || true
svc_start gateway HC_UPSTREAM_TIMEOUT_MS=1000
kill -CONT "$INTAKE_PID"
wait_for "intake to take the request it held" 20 count_is 6
stored=$(sql "SELECT id FROM intake.employer_applications WHERE employer_name = '$tag' ORDER BY submitted_at DESC, id DESC LIMIT 1")
retried() { post "$PARTNER" "k6-$HC_TEST_RUN" "$body" && [ "$STATUS" != 409 ]; }
wait_for "the retry to be let through" 15 retried
assert_eq "$STATUS $(jq -r .id <<<"$BODY")" "201 $stored" "the retry after the dead gateway's claim lapsed: intake's first answer"
grep -qi '^Idempotent-Replayed: true' <<<"$HEADERS" || fail "intake's replay is not marked as replayed"
assert_eq "$(count)" 6 "applications stored"

note "a declaration (group-committed) after a 504"
rid=$(resident_id "4201021985$(printf '%02d%02d' $((1 + RANDOM % 12)) $((1 + RANDOM % 28)))$(printf '%03d' $((RANDOM % 1000)))")
decl=$(declaration_json "$rid" 420102)
declared() { [ "$(sql "SELECT count(*) FROM intake.declarations WHERE submitted_by = 'idem-partner-$HC_TEST_RUN'")" = "$1" ]; }
timed_out "d1-$HC_TEST_RUN" "$decl" /v1/declarations
wait_for "intake to take the declaration it held" 20 declared 1
post "$PARTNER" "d1-$HC_TEST_RUN" "$decl" /v1/declarations
assert_eq "$STATUS" 201 "the declaration's retry"
grep -qi '^Idempotent-Replayed: true' <<<"$HEADERS" || fail "the declaration's retry is not marked as replayed"
assert_eq "$(jq -r .id <<<"$BODY")" "$(sql "SELECT id FROM intake.declarations WHERE submitted_by = 'idem-partner-$HC_TEST_RUN'")" "the declaration named"
post "$PARTNER" "d2-$HC_TEST_RUN" "$decl" /v1/declarations
assert_eq "$STATUS" 201 "the same declaration under a new key"
declared 2 || fail "a new key is a new declaration: expected 2 stored"
note "the answer is kept with the effect or neither is: keeping it fails, nothing is stored"
# posted to intake directly (an internal call: its keys are client "-"), so
# that the gateway does not keep the 500 for the retry
sql "CREATE FUNCTION intake.idem_keep_fails() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'the answer cannot be kept'; END\$\$;
     CREATE TRIGGER idem_keep_fails BEFORE UPDATE ON intake.request_keys FOR EACH ROW
     WHEN (NEW.key LIKE 'keepfail-%') EXECUTE FUNCTION intake.idem_keep_fails()" >/dev/null
direct() { # direct KEY BODY PATH: sets STATUS, BODY, HEADERS
	local out
	out=$(printf '%s' "$2" | curl -sS -D "$HC_TEST_TMP/headers" -H "Idempotency-Key: $1" \
		-H 'Content-Type: application/json' --data-binary @- -w '\n%{http_code}' "$INTAKE$3")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	HEADERS=$(tr -d '\r' <"$HC_TEST_TMP/headers")
}
kf_tag="keepfail-$HC_TEST_RUN"
kf_body=$(application_json "$kf_tag" 420102 1 21)
kf_count() { sql "SELECT count(*) FROM intake.employer_applications WHERE employer_name = '$kf_tag'"; }
kf_keys() { sql "SELECT count(*) FROM intake.request_keys WHERE key LIKE '$1%'"; }
direct "keepfail-a-$HC_TEST_RUN" "$kf_body" /v1/employer-applications
assert_eq "$STATUS" 500 "an application whose answer cannot be kept"
assert_eq "$(kf_count) $(kf_keys "keepfail-a-$HC_TEST_RUN")" "0 0" "application and key stored"
rid=$(resident_id "4201021986$(printf '%02d%02d' $((1 + RANDOM % 12)) $((1 + RANDOM % 28)))$(printf '%03d' $((RANDOM % 1000)))")
kf_decl=$(declaration_json "$rid" 420102)
kf_declared() { sql "SELECT count(*) FROM intake.declarations WHERE id::text = '$1'"; }
decls_before=$(sql "SELECT count(*) FROM intake.declarations")
direct "keepfail-d-$HC_TEST_RUN" "$kf_decl" /v1/declarations
assert_eq "$STATUS" 500 "a declaration (group-committed) whose answer cannot be kept"
assert_eq "$(kf_keys "keepfail-d-$HC_TEST_RUN")" 0 "the declaration's key stored"
sql "DROP TRIGGER idem_keep_fails ON intake.request_keys; DROP FUNCTION intake.idem_keep_fails()" >/dev/null
direct "keepfail-a-$HC_TEST_RUN" "$kf_body" /v1/employer-applications
assert_eq "$STATUS" 201 "the application's retry, once the answer can be kept"
grep -qi '^Idempotent-Replayed' <<<"$HEADERS" && fail "the retry of a request that never took effect was replayed"
kf_first=$BODY
direct "keepfail-a-$HC_TEST_RUN" "$kf_body" /v1/employer-applications
assert_eq "$STATUS $BODY" "201 $kf_first" "the next retry, replayed by intake"
grep -qi '^Idempotent-Replayed: true' <<<"$HEADERS" || fail "intake's replay is not marked as replayed"
assert_eq "$(kf_count)" 1 "applications stored after the retries"
assert_eq "$(sql "SELECT status FROM intake.request_keys WHERE key = 'keepfail-a-$HC_TEST_RUN'")" 201 "the kept status"
direct "keepfail-d-$HC_TEST_RUN" "$kf_decl" /v1/declarations
assert_eq "$STATUS" 201 "the declaration's retry"
kf_id=$(jq -r .id <<<"$BODY")
assert_eq "$(kf_declared "$kf_id")" 1 "the declaration stored"
direct "keepfail-d-$HC_TEST_RUN" "$kf_decl" /v1/declarations
assert_eq "$STATUS $(jq -r .id <<<"$BODY")" "201 $kf_id" "the declaration's next retry"
grep -qi '^Idempotent-Replayed: true' <<<"$HEADERS" || fail "the declaration's replay is not marked as replayed"
assert_eq "$(sql "SELECT count(*) FROM intake.declarations")" $((decls_before + 1)) "declarations stored by the failed first and its two retries"
assert_eq "$(sql "SELECT count(*) FROM intake.request_keys WHERE status IS NULL AND created_at > now() - interval '1 hour'")" 0 "keys claimed without their answer"
echo passed
