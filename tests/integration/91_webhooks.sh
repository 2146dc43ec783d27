#!/usr/bin/env bash
# Callbacks to partner apps: a partner subscribes to code changes; its
# endpoint fails five times, then succeeds, and it receives the event
# exactly once as far as its deduplication (HC-Event-Id) is concerned, each
# attempt signed by the platform; another partner's endpoint hangs and does
# not delay the first's deliveries, and holds no more than
# HC_WEBHOOK_MAX_INFLIGHT of the gateways' connections (two gateways together); each partner hears only of the people
# who applied through it; subscriptions are listed with their deliveries
# and can be deleted, which cancels what they still had to deliver (also a
# delivery added while the delete committed).  Without HC_WEBHOOK_ALLOW_PRIVATE a callback reaches
# only public addresses: a loopback, private or link-local IP is refused
# when subscribed, a name resolving to one when a delivery connects.
# Callbacks keep their connections (a pool apart from the services').
. "$(dirname "$0")/lib.sh"

for s in intake review matching certificate codegen; do svc_start "$s"; done
# the receivers listen on loopback: private addresses allowed until the last part
svc_start gateway HC_WEBHOOK_ALLOW_HTTP=1 HC_WEBHOOK_ALLOW_PRIVATE=1 HC_WEBHOOK_BACKOFF_MS=100 \
	HC_WEBHOOK_TIMEOUT_MS=2000 HC_WEBHOOK_MAX_INFLIGHT=2
A=$(gw_client hook-a partner)
B=$(gw_client hook-b partner)
CHK=$(gw_client hook-chk checkpoint)
port_a=$((TEST_GATEWAY_PORT + 110))
port_b=$((TEST_GATEWAY_PORT + 111))
: >"$HC_TEST_TMP/hook-a.log"
: >"$HC_TEST_TMP/hook-b.log"
python3 tests/tools/webhook_receiver.py "$port_a" flaky "$HC_TEST_TMP/hook-a.log" </dev/null >/dev/null 2>&1 &
echo $! >"$HC_TEST_TMP/receiver-a.pid"
python3 tests/tools/webhook_receiver.py "$port_b" hang "$HC_TEST_TMP/hook-b.log" </dev/null >/dev/null 2>&1 &
echo $! >"$HC_TEST_TMP/receiver-b.pid"
_test_pids+=(receiver-a receiver-b)
wait_for "the receivers" 10 bash -c "curl -s -o /dev/null http://127.0.0.1:$port_a/ && curl -s -o /dev/null --max-time 1 http://127.0.0.1:$port_b/; true"

note "subscriptions: checked, listed, per client"
AUTH=$A http POST "$GATEWAY/v1/webhooks" '{"url":"ftp://127.0.0.1/x","events":["hc.codegen.code.changed.v1"]}'
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 url" "an ftp URL"
AUTH=$A http POST "$GATEWAY/v1/webhooks" '{"url":"http://127.0.0.1:1/x","events":["hc.intake.declaration.submitted.v1"]}'
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 events" "an event partners may not subscribe to"
AUTH=$CHK http POST "$GATEWAY/v1/webhooks" '{"url":"http://127.0.0.1:1/x","events":["hc.codegen.code.changed.v1"]}'
assert_eq "$STATUS" 403 "a checkpoint may not subscribe"
AUTH=$A http POST "$GATEWAY/v1/webhooks" "{\"url\":\"http://127.0.0.1:$port_a/callbacks\",\"events\":[\"hc.codegen.code.changed.v1\"]}"
assert_eq "$STATUS" 201 "partner A subscribes"
sub_a=$(jq -r .id <<<"$BODY")
AUTH=$A http POST "$GATEWAY/v1/webhooks" "{\"url\":\"http://127.0.0.1:$port_a/callbacks\",\"events\":[\"hc.codegen.code.changed.v1\",\"hc.review.employer-application.decided.v1\"]}"
assert_eq "$STATUS $(jq -r .id <<<"$BODY")" "200 $sub_a" "subscribing again to the same URL replaces the events"
AUTH=$A http GET "$GATEWAY/v1/webhooks"
assert_eq "$(jq length <<<"$BODY")" 1 "still one subscription"
AUTH=$B http POST "$GATEWAY/v1/webhooks" "{\"url\":\"http://127.0.0.1:$port_b/callbacks\",\"events\":[\"hc.codegen.code.changed.v1\"]}"
assert_eq "$STATUS" 201 "partner B subscribes"
sub_b=$(jq -r .id <<<"$BODY")
AUTH=$B http GET "$GATEWAY/v1/webhooks"
assert_eq "$(jq -c '[.[].url]' <<<"$BODY")" "[\"http://127.0.0.1:$port_b/callbacks\"]" "B sees only its own"

note "B's endpoint hangs; A's fails five times, then succeeds"
AUTH=$B http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id b)" 420102)"
key_b=$(jq -r .person_key <<<"$BODY")
wait_for "B's code" 30 code_is "$key_b" '.colour == "green"'
wait_for "B's endpoint holding a delivery" 30 test -s "$HC_TEST_TMP/hook-b.log"
AUTH=$A http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id a)" 420102)"
key_a=$(jq -r .person_key <<<"$BODY")
wait_for "A's code" 30 code_is "$key_a" '.colour == "green"'
t0=$(date +%s)
wait_for "A's event delivered" 30 grep -q '"status": 200' "$HC_TEST_TMP/hook-a.log"
secs=$(( $(date +%s) - t0 ))
note "A's event delivered ${secs}s after its code changed, through five failures"
[ "$secs" -le 15 ] || fail "A's delivery took ${secs}s"
event=$(records_of hc.codegen.code.v1 "$key_a" | jq -r .id | sed -n 1p)
assert_eq "$(jq -r 'select(.status == 200) | .event_id' "$HC_TEST_TMP/hook-a.log" | sort -u | xargs)" "$event" \
	"the one event A acknowledged is the code.changed event on Kafka"
assert_eq "$(jq -s -c '[.[] | select(.event_id == "'"$event"'")] | [length, (map(.status) | sort | unique), all(.signed)]' "$HC_TEST_TMP/hook-a.log")" \
	'[6,[200,500],true]' "six attempts, five refused, one accepted, all signed"
assert_eq "$(jq -s '[.[] | select(.event_id == "'"$event"'") | .port] | unique | length' "$HC_TEST_TMP/hook-a.log")" 1 \
	"the six attempts on one kept connection (callbacks have a connection pool of their own)"
assert_eq "$(jq -r 'select(.type == "hc.codegen.code.changed.v1") | .person_key' "$HC_TEST_TMP/hook-a.log" | sort -u | xargs)" "$key_a" "A hears only of its own person"
sleep 1
assert_eq "$(jq -s 'map(select(.event_id == "'"$event"'")) | length' "$HC_TEST_TMP/hook-a.log")" 6 "no attempt after the acknowledgement"
AUTH=$A http GET "$GATEWAY/v1/webhooks"
assert_eq "$(jq -c '.[0].deliveries[0] | [.event_id, .status, .attempts]' <<<"$BODY")" "[\"$event\",\"delivered\",6]" "A's delivery log"
AUTH=$B http GET "$GATEWAY/v1/webhooks"
assert_eq "$(jq -r '.[0].deliveries[0].status' <<<"$BODY")" pending "B's delivery still pending"
assert_eq "$(jq -r .person_key "$HC_TEST_TMP/hook-b.log" | sort -u | xargs)" "$key_b" "B hears only of its own person"

note "a county's decision on A's employer application reaches A, not B"
COUNTY=$(gw_client hook-county county 420102)
AUTH=$A http POST "$GATEWAY/v1/employer-applications" "$(application_json "hooks-$HC_TEST_RUN" 420102 1 77)"
assert_eq "$STATUS" 201 "A's employer application"
app=$(jq -r .id <<<"$BODY")
wait_for "queued" 30 curl -fsS "$REVIEW/v1/queue-items/$app"
AUTH=$COUNTY http POST "$GATEWAY/v1/queue-items/$app/decision" '{"decision":"approve","opinion":"同意复工","reviewer":"甲"}'
assert_eq "$STATUS" 200 "the county approves"
wait_for "the decision delivered to A" 30 bash -c "jq -r 'select(.type == \"hc.review.employer-application.decided.v1\" and .status == 200) | .application_id' '$HC_TEST_TMP/hook-a.log' | grep -qx '$app'"
assert_eq "$(jq -r 'select(.type == "hc.review.employer-application.decided.v1") | .application_id' "$HC_TEST_TMP/hook-b.log" | wc -l)" 0 "B hears nothing of it"

note "a code change read before the declaration that links its person to A still reaches A"
# The two come on different topics, so the gateway may read them in either order; force the
# unlucky one: the code change first, then (once it waits in the gateway) the declaration.
late_key=$(printf 'late-%s' "$HC_TEST_RUN" | sha256sum | cut -c1-64)
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)
late_event=$(cat /proc/sys/kernel/random/uuid)
jq -nc --arg k "$late_key" --arg id "$late_event" --arg t "$now" --arg a "$(cat /proc/sys/kernel/random/uuid)" \
	'{specversion: "1.0", id: $id, type: "hc.codegen.code.changed.v1", source: "/hc/codegen", subject: $k, time: $t,
	  datacontenttype: "application/json",
	  data: {person_key: $k, masked_name: "张*", county_code: "420102", version: 1, colour: "green", pass: false,
	         rule_id: "no-risk", rule_version: 1, decided_by: "rules", cause: ("assessment " + $a), changed_at: $t,
	         evidence: [{source: "self_declaration", kind: "declaration", record_id: $a}]}}' >"$HC_TEST_TMP/late.json"
produce_late() {
	kcat -b "$HC_KAFKA_BROKERS" -P -t "${HC_KAFKA_TOPIC_PREFIX}hc.codegen.code.v1" -k "$late_key" \
		-H ce_type=hc.codegen.code.changed.v1 -H county=420102 "$HC_TEST_TMP/late.json" || fail "could not produce the code change"
}
produce_late
wait_for "the code change waiting in the gateway" 30 bash -c \
	"[ \"\$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM gateway.partner_events_pending WHERE event_id = '$late_event'\")\" = 1 ]"
# two declarations of that person in one produce, so the gateway reads them in one batch and
# links them with its batch handler (a link made twice in one statement is made once)
for d in "$(cat /proc/sys/kernel/random/uuid)" "$(cat /proc/sys/kernel/random/uuid)"; do
	jq -nc --arg k "$late_key" --arg t "$now" --arg d "$d" --arg c "hook-a-$HC_TEST_RUN" \
		'{specversion: "1.0", id: $d, type: "hc.intake.declaration.submitted.v1", source: "/hc/intake", subject: $d, time: $t,
		  datacontenttype: "application/json",
		  data: {declaration_id: $d, person_key: $k, masked_name: "张*", county_code: "420102", declared: [],
		         submitted_by: $c, submitted_at: $t}}'
done |
	kcat -b "$HC_KAFKA_BROKERS" -P -t "${HC_KAFKA_TOPIC_PREFIX}hc.intake.declaration.v1" -k "$late_key" \
		-H ce_type=hc.intake.declaration.submitted.v1 -H county=420102 || fail "could not produce the declaration"
wait_for "the early code change delivered to A" 30 bash -c \
	"jq -r 'select(.status == 200) | .event_id' '$HC_TEST_TMP/hook-a.log' | grep -qx '$late_event'"
assert_eq "$(jq -r 'select(.event_id == "'"$late_event"'") | .event_id' "$HC_TEST_TMP/hook-b.log" | wc -l)" 0 "B hears nothing of it"
sleep 1 # a second delivery of it would show by now
assert_eq "$(jq -r 'select(.status == 200 and .event_id == "'"$late_event"'") | .event_id' "$HC_TEST_TMP/hook-a.log" | wc -l)" 1 "A hears it once"
assert_eq "$(sql "SELECT count(*) FROM gateway.person_clients WHERE person_key = '$late_key'")" 1 "one link"

note "the gateway's effects are idempotent: no processed_events rows; a copy of an event adds nothing"
assert_eq "$(sql "SELECT count(*) FROM gateway.processed_events")" 0 "the gateway records no processed events"
gw_applied() { curl -fsS "$GATEWAY/metrics" | awk '$1 ~ /^hc_consumer_processed_total\{consumer="gateway"/ {s += $2} END {print s + 0}'; }
applied_before=$(gw_applied)
produce_late # a copy, as a relay that published it again would send
gw_applied_more() { [ "$(gw_applied)" -gt "$applied_before" ]; }
wait_for "the copy of the code change applied" 30 gw_applied_more
sleep 1 # a delivery it added would be sent by now
assert_eq "$(sql "SELECT count(*) FROM gateway.webhook_deliveries WHERE event_id = '$late_event'")" 1 "one delivery of it"
assert_eq "$(jq -r 'select(.status == 200 and .event_id == "'"$late_event"'") | .event_id' "$HC_TEST_TMP/hook-a.log" | wc -l)" 1 "A still hears it once"

note "one client's backlog does not hold another's callbacks back"
# 400 of A's deliveries overdue for an hour (its endpoint answers at once, so it has a free slot
# on every pass), then one of B's due now: B's is tried while nearly all of A's wait their first
# attempt (when the oldest 100 due deliveries of every client with a free slot were read, A's filled
# them and B's was tried only once fewer than 100 of A's were left)
sql "INSERT INTO gateway.webhook_deliveries (subscription_id, event_id, event_type, payload, next_at)
     SELECT '$sub_a', 'backlog-' || g || '-$HC_TEST_RUN', 'hc.codegen.code.changed.v1', '{\"data\":{}}',
            now() - interval '1 hour'
     FROM generate_series(1, 400) g" >/dev/null
sql "INSERT INTO gateway.webhook_deliveries (subscription_id, event_id, event_type, payload)
     VALUES ('$sub_b', 'fair-$HC_TEST_RUN', 'hc.codegen.code.changed.v1', '{\"data\":{}}')" >/dev/null
fair_held() { jq -r 'select(.status == "held") | .event_id' "$HC_TEST_TMP/hook-b.log" | grep -qx "fair-$HC_TEST_RUN"; }
wait_for "B's delivery tried" 60 fair_held
untried=$(sql "SELECT count(*) FROM gateway.webhook_deliveries WHERE event_id LIKE 'backlog-%-$HC_TEST_RUN' AND attempts = 0")
[ "$untried" -ge 300 ] || fail "B's delivery was tried only once A's backlog was down to $untried untried deliveries of 400"
# out of the way of what follows: claimed no more, and gone once no attempt of theirs is on its way
sql "UPDATE gateway.webhook_deliveries SET status = 'cancelled' WHERE event_id LIKE 'backlog-%-$HC_TEST_RUN' OR event_id = 'fair-$HC_TEST_RUN'" >/dev/null
extra_quiet() { [ "$(sql "SELECT count(*) FROM gateway.webhook_deliveries WHERE (event_id LIKE 'backlog-%-$HC_TEST_RUN' OR event_id = 'fair-$HC_TEST_RUN') AND sending_until IS NOT NULL")" = 0 ]; }
wait_for "the last attempts of these ended" 10 extra_quiet
sql "DELETE FROM gateway.webhook_deliveries WHERE event_id LIKE 'backlog-%-$HC_TEST_RUN' OR event_id = 'fair-$HC_TEST_RUN'" >/dev/null

note "at most HC_WEBHOOK_MAX_INFLIGHT (2) callbacks on their way to B's hanging endpoint, from two gateways"
# a second gateway with the same settings: its sender claims from the same deliveries
svc_start_as gateway2 gateway $((TEST_GATEWAY_PORT + 112)) HC_WEBHOOK_ALLOW_HTTP=1 HC_WEBHOOK_ALLOW_PRIVATE=1 \
	HC_WEBHOOK_BACKOFF_MS=100 HC_WEBHOOK_TIMEOUT_MS=2000 HC_WEBHOOK_MAX_INFLIGHT=2
# six deliveries due at once, as if six events had come together
sql "INSERT INTO gateway.webhook_deliveries (subscription_id, event_id, event_type, payload)
     SELECT '$sub_b', 'cap-' || g || '-$HC_TEST_RUN', 'hc.codegen.code.changed.v1', '{\"data\":{}}'
     FROM generate_series(1, 6) g" >/dev/null
cap_held() { [ "$(jq -r 'select(.status == "held") | .event_id' "$HC_TEST_TMP/hook-b.log" | grep "^cap-.*-$HC_TEST_RUN\$" | sort -u | wc -l)" -ge 6 ]; }
wait_for "each of the six tried" 30 cap_held
# each attempt is held until the gateways' 2-second timeout: no more than two may arrive
# within 1.8 s of each other (with the claim not counting what is on its way, 7 did)
crowd=$(jq -s '[.[] | select(.status == "held") | .t] | sort as $t
	| [range(0; $t | length) as $i | [$t[] | select(. > $t[$i] - 1.8 and . <= $t[$i])] | length] | max' \
	"$HC_TEST_TMP/hook-b.log")
assert_eq "$crowd" 2 "at most two of B's callbacks arrived within one timeout, from both gateways"
sending() { sql "SELECT count(*) FROM gateway.webhook_deliveries WHERE subscription_id = '$sub_b' AND sending_until > now()"; }
[ "$(sending)" -le 2 ] || fail "more than two of B's deliveries marked as being sent: $(sending)"
svc_stop gateway2

note "deleting a subscription cancels its deliveries: nothing more is sent to it"
b_status() { sql "SELECT string_agg(DISTINCT status, ',') FROM gateway.webhook_deliveries WHERE subscription_id = '$sub_b'"; }
assert_eq "$(b_status)" pending "B's delivery pending before the delete"
AUTH=$B http DELETE "$GATEWAY/v1/webhooks/$sub_b"
assert_eq "$STATUS" 204 "B deletes its subscription"
assert_eq "$(b_status)" cancelled "B's delivery cancelled with it"
AUTH=$A http DELETE "$GATEWAY/v1/webhooks/$sub_b"
assert_eq "$STATUS" 404 "another client cannot see it (or delete it again)"
sleep 2.5 # an attempt on its way at the delete has reached the receiver and timed out by now
# requests that arrived (a held request writes a second line when its 30 s end, which
# may fall here: an attempt from the part above)
arrived_b() { jq -r 'select(.status == "held") | .t' "$HC_TEST_TMP/hook-b.log" | wc -l; }
heard_b=$(arrived_b)
# a delivery the consumer added in a transaction that began before the delete is still
# pending (its insert did not see the deleted_at); as if it were, and due now:
sql "UPDATE gateway.webhook_deliveries SET status = 'pending', last_error = NULL, next_at = now() WHERE subscription_id = '$sub_b'" >/dev/null
b_cancelled() { [ "$(sql "SELECT string_agg(DISTINCT status || ':' || last_error, ',') FROM gateway.webhook_deliveries WHERE subscription_id = '$sub_b'")" = 'cancelled:subscription deleted' ]; }
wait_for "the late delivery cancelled when claimed" 10 b_cancelled
sleep 0.5
assert_eq "$(arrived_b)" "$heard_b" "B's endpoint heard nothing after the delete"

note "a deleted subscription is gone"
AUTH=$A http DELETE "$GATEWAY/v1/webhooks/$sub_a"
assert_eq "$STATUS" 204 "delete"
AUTH=$A http GET "$GATEWAY/v1/webhooks"
assert_eq "$BODY" "[]" "no subscriptions left"
AUTH=$A http DELETE "$GATEWAY/v1/webhooks/$sub_a"
assert_eq "$STATUS" 404 "deleted twice"

note "callbacks reach only public addresses (the gateway as deployed: private addresses refused)"
svc_stop gateway
svc_start gateway HC_WEBHOOK_ALLOW_HTTP=1 HC_WEBHOOK_BACKOFF_MS=100 HC_WEBHOOK_TIMEOUT_MS=2000
for u in "http://127.0.0.1:$port_a/callbacks" "http://[::1]:$port_a/callbacks" \
	"http://169.254.169.254/latest/meta-data" "http://10.0.0.7/x" "http://user@192.168.1.1:8080/x" \
	"http://[::ffff:127.0.0.1]/x" "https://0.0.0.0/x"; do
	AUTH=$A http POST "$GATEWAY/v1/webhooks" "{\"url\":\"$u\",\"events\":[\"hc.codegen.code.changed.v1\"]}"
	assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 url" "a callback to $u"
done
AUTH=$A http POST "$GATEWAY/v1/webhooks" "{\"url\":\"http://localhost:$port_a/callbacks\",\"events\":[\"hc.codegen.code.changed.v1\"]}"
assert_eq "$STATUS" 201 "a name is subscribed: it is checked when it resolves"
sub_l=$(jq -r .id <<<"$BODY")
heard=$(wc -l <"$HC_TEST_TMP/hook-a.log")
AUTH=$A http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id local)" 420102)"
assert_eq "$STATUS" 201 "a declaration through A"
# refused_attempts: the attempts of the new subscription's delivery, each refused as not public
refused_attempts() {
	AUTH=$A http GET "$GATEWAY/v1/webhooks"
	jq -e --arg s "$sub_l" '.[] | select(.id == $s) | .deliveries[0]
		| .attempts >= 2 and .status == "pending" and (.last_error | test("not public"))' <<<"$BODY" >/dev/null
}
wait_for "two attempts of the delivery to localhost, refused" 30 refused_attempts
assert_eq "$(wc -l <"$HC_TEST_TMP/hook-a.log")" "$heard" "the receiver on loopback heard nothing"
grep -q "its address is not public" "$HC_TEST_TMP/gateway.log" || fail "the refusal is not in the gateway's log"
