#!/usr/bin/env bash
# Idempotency-Key at the gateway: a retry gets the first response again,
# byte for byte, and creates nothing; the same key for another request is
# 422; a retry while the first still runs is 409; a first request the
# service could not take (503) releases the key; keys are per client.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start gateway
PARTNER=$(gw_client idem-partner partner)
OTHER=$(gw_client idem-other partner)
tag="idem-$HC_TEST_RUN"
body=$(application_json "$tag" 420102 1 21)

post() { # post KEY IDEMPOTENCY-KEY BODY: sets STATUS, BODY, HEADERS
	local out
	out=$(printf '%s' "$3" | curl -sS -D "$HC_TEST_TMP/headers" -H "Authorization: Bearer $1" \
		-H "Idempotency-Key: $2" -H 'Content-Type: application/json' --data-binary @- \
		-w '\n%{http_code}' "$GATEWAY/v1/employer-applications")
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	HEADERS=$(tr -d '\r' <"$HC_TEST_TMP/headers")
}
count() { sql "SELECT count(*) FROM intake.employer_applications WHERE employer_name = '$tag'"; }

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
sleep 1
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
echo passed
