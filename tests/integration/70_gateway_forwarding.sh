#!/usr/bin/env bash
# The gateway forwards each public route to its owning service: method,
# path, query string, body and trace context in; status, body and headers
# out.  Connections to the services are kept alive.  A service that is down
# gives 503 with Retry-After, one that hangs gives 504 after the timeout.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start review
svc_start gateway HC_UPSTREAM_TIMEOUT_MS=1000 HC_HTTP_THREADS=2
AUTH=$(gw_client fwd provincial)

note "the flow through the gateway, with the caller's trace"
trace=4bf92f3577b34da6a3ce929d0e0e4736
out=$(curl -sS -D "$HC_TEST_TMP/gw.headers" -X POST "$GATEWAY/v1/employer-applications" -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $AUTH" \
	-H "traceparent: 00-$trace-00f067aa0ba902b7-01" --data-binary "$(application_json "gw-$HC_TEST_RUN" 420115 2 21)" -w '\n%{http_code}')
assert_eq "${out##*$'\n'}" 201 "POST through the gateway"
id=$(jq -r .id <<<"${out%$'\n'*}")
grep -qi "^Location: /v1/employer-applications/$id" "$HC_TEST_TMP/gw.headers" || fail "Location not forwarded"
grep -qi '^Content-Type: application/json' "$HC_TEST_TMP/gw.headers" || fail "Content-Type not forwarded"
http GET "$GATEWAY/v1/employer-applications/$id"
assert_eq "$STATUS" 200 "GET through the gateway"
assert_eq "$(jq -r .worker_count <<<"$BODY")" 2 "worker_count"
wait_for "queued" 30 curl -fsS -H "Authorization: Bearer $AUTH" "$GATEWAY/v1/queue-items/$id"
rec=$(kafka_records "$TOPIC_APPLICATIONS" | jq -c --arg id "$id" 'select(.key == $id) | .payload | fromjson')
[[ "$(jq -r .traceparent <<<"$rec")" == "00-$trace-"* ]] || fail "trace not carried from the gateway to the event"

note "query strings are forwarded"
http GET "$GATEWAY/v1/counties/420115/queue?limit=1&status=pending"
assert_eq "$STATUS" 200 "queue through the gateway"
assert_eq "$(jq '.items | length' <<<"$BODY")" 1 "limit forwarded"
http GET "$GATEWAY/v1/counties/420115/queue?limit=0"
assert_eq "$STATUS" 400 "bad limit"
assert_eq "$(jq -r .field <<<"$BODY")" limit "the service's problem is passed through"

note "the services' problems pass through unchanged"
http POST "$GATEWAY/v1/employer-applications" '{"employer_name":1}'
assert_eq "$STATUS" 400 "bad body"
assert_eq "$(jq -r .field <<<"$BODY")" employer_name "field"
http GET "$GATEWAY/v1/not-a-route"
assert_eq "$STATUS" 404 "unknown route at the gateway"

note "connections to intake are reused"
for i in $(seq 1 200); do echo "url = \"$GATEWAY/v1/employer-applications/$id\""; echo "header = \"Authorization: Bearer $AUTH\""; echo 'output = "/dev/null"'; [ $i -lt 200 ] && echo next; done >"$HC_TEST_TMP/gw.cfg"
curl -sS --parallel --parallel-max 4 -K "$HC_TEST_TMP/gw.cfg"
conns=$(ss -tn state established "( dport = :$TEST_INTAKE_PORT )" | tail -n +2 | wc -l)
note "established connections gateway -> intake after 200 requests: $conns"
# 4 at a time: at most 4 connections, kept alive and reused, never one per request
[ "$conns" -ge 1 ] && [ "$conns" -le 4 ] || fail "expected at most one connection per concurrent request, saw $conns"

note "a hanging service: 504 after the timeout"
kill -STOP "$(cat "$HC_TEST_TMP/intake.pid")"
start=$(date +%s%N)
http GET "$GATEWAY/v1/employer-applications/$id"
elapsed=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$(cat "$HC_TEST_TMP/intake.pid")"
assert_eq "$STATUS" 504 "hanging service"
assert_eq "$(jq -r .code <<<"$BODY")" upstream-timeout "504 code"
[ "$elapsed" -ge 900 ] && [ "$elapsed" -lt 3000 ] || fail "504 came after ${elapsed} ms, expected about 1000"

note "a stopped service: 503 with Retry-After"
svc_stop intake
out=$(curl -sS -D - -o /dev/null -H "Authorization: Bearer $AUTH" "$GATEWAY/v1/employer-applications/$id" | tr -d '\r')
grep -q '^HTTP/1.1 503' <<<"$out" || fail "expected 503, got: $(head -1 <<<"$out")"
grep -qi '^Retry-After: 1' <<<"$out" || fail "Retry-After missing"
note "review still answers through the gateway"
http GET "$GATEWAY/v1/queue-items/$id"
assert_eq "$STATUS" 200 "review while intake is down"
echo passed
