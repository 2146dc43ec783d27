#!/usr/bin/env bash
# The first flow, through HTTP and Kafka: an employer applies at intake; the
# application and its outbox event commit together; the relay publishes a
# CloudEvent (checked with kcat, an independent client); review consumes it
# into the county's queue, and its API lists and shows it.  No raw name, ID
# number or phone leaves intake: not in the event, review's schema or logs.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start review

id_no=$(resident_id 42010219850315123)
body=$(printf '{"employer_name":"武汉市自来水有限公司","credit_code":"%s","county_code":"420104","category":"public_utilities","workers":[{"name":"张三丰","resident_id":"%s","phone":"13800138000"}]}' \
	"$(credit_code 91420100MA4K3W5T0)" "$id_no")

note "submit the application"
http POST "$INTAKE/v1/employer-applications" "$body"
assert_eq "$STATUS" 201 "POST status"
app_id=$(jq -r .id <<<"$BODY")
assert_eq "$(jq -r .status <<<"$BODY")" submitted "status"
assert_eq "$(jq -r .worker_count <<<"$BODY")" 1 "worker_count"

note "intake shows it with masked names"
http GET "$INTAKE/v1/employer-applications/$app_id"
assert_eq "$STATUS" 200 "GET application"
assert_eq "$(jq -r '.workers[0].masked_name' <<<"$BODY")" "张**" "masked name"
person_key=$(jq -r '.workers[0].person_key' <<<"$BODY")
[[ "$person_key" =~ ^[0-9a-f]{64}$ ]] || fail "person key is not 64 hex: $person_key"

note "the county queue receives it"
wait_for "queue item" 30 curl -fsS "$REVIEW/v1/queue-items/$app_id"
http GET "$REVIEW/v1/counties/420104/queue?status=pending&limit=500"
assert_eq "$STATUS" 200 "GET queue"
assert_eq "$(jq -r --arg id "$app_id" '[.items[] | select(.application_id == $id)] | length' <<<"$BODY")" 1 "items for the application"
assert_eq "$(jq -r .county_name <<<"$BODY")" "硚口区" "county name"
http GET "$REVIEW/v1/queue-items/$app_id"
assert_eq "$(jq -r .status <<<"$BODY")" pending "queue item status"
assert_eq "$(jq -r .workers[0].person_key <<<"$BODY")" "$person_key" "person key in review"
assert_eq "$(jq -r .overdue <<<"$BODY")" false "overdue"

note "the record on Kafka is a structured CloudEvent with ce_* headers"
rec=$(kafka_records "$TOPIC_APPLICATIONS" | jq -c --arg id "$app_id" 'select(.key == $id)')
[ -n "$rec" ] || fail "no record keyed $app_id on $TOPIC_APPLICATIONS"
assert_eq "$(jq -r '.payload | fromjson | .specversion' <<<"$rec")" 1.0 "specversion"
assert_eq "$(jq -r '.payload | fromjson | .type' <<<"$rec")" hc.intake.employer-application.submitted.v1 "type"
ce_id=$(jq -r '.payload | fromjson | .id' <<<"$rec")
hdr() { jq -r --arg h "$1" '.headers as $h | [range(0; $h | length; 2) | select($h[.] == $ARGS.named.h) | $h[. + 1]] | first // empty' --arg h "$1" <<<"$rec"; }
assert_eq "$(hdr ce_id)" "$ce_id" "ce_id header"
assert_eq "$(hdr ce_type)" hc.intake.employer-application.submitted.v1 "ce_type header"
assert_eq "$(hdr ce_source)" /hc/intake "ce_source header"
assert_eq "$(hdr county)" 420104 "county header"
assert_eq "$(hdr content-type)" application/cloudevents+json "content-type header"
[[ "$(hdr traceparent)" =~ ^00-[0-9a-f]{32}-[0-9a-f]{16}-01$ ]] || fail "traceparent header: $(hdr traceparent)"
[ -n "$(hdr ce_time)" ] || fail "ce_time header missing"

note "the partition is murmur2(key) like Java clients compute"
murmur2() {
	local data=$1 len=${#1} m=0x5bd1e995 h i k
	h=$(((0x9747b28c ^ len) & 0xffffffff))
	for ((i = 0; i + 4 <= len; i += 4)); do
		k=$(($(printf '%d' "'${data:i:1}") | $(printf '%d' "'${data:i+1:1}") << 8 | $(printf '%d' "'${data:i+2:1}") << 16 | $(printf '%d' "'${data:i+3:1}") << 24))
		k=$(((k * m) & 0xffffffff)); k=$((k ^ (k >> 24))); k=$(((k * m) & 0xffffffff))
		h=$(((h * m) & 0xffffffff)); h=$((h ^ k))
	done
	local rem=$((len - i))
	[ $rem -ge 3 ] && h=$((h ^ ($(printf '%d' "'${data:i+2:1}") << 16)))
	[ $rem -ge 2 ] && h=$((h ^ ($(printf '%d' "'${data:i+1:1}") << 8)))
	[ $rem -ge 1 ] && h=$(((h ^ $(printf '%d' "'${data:i:1}")) * m & 0xffffffff))
	h=$((h ^ (h >> 13))); h=$(((h * m) & 0xffffffff)); h=$((h ^ (h >> 15)))
	echo $(((h & 0x7fffffff) % 6))
}
assert_eq "$(jq -r .partition <<<"$rec")" "$(murmur2 "$app_id")" "partition of key $app_id"

note "the outbox row is deleted once Kafka has persisted its record"
outbox_row_gone() { [ "$(sql "SELECT count(*) FROM intake.outbox WHERE event_id = '$ce_id'")" = 0 ]; }
wait_for "the published outbox row to be deleted" 10 outbox_row_gone
assert_eq "$(sql "SELECT count(*) FROM review.processed_events WHERE event_id = '$ce_id'")" 1 "processed_events row"

note "no raw personal data outside intake's sealed columns"
for needle in "$id_no" 13800138000 张三丰; do
	kafka_records "$TOPIC_APPLICATIONS" | holds -F "$needle" && fail "personal data on Kafka"
	grep -qF "$needle" "$HC_TEST_TMP"/*.log && fail "personal data in a log"
	[ "$(sql "SELECT count(*) FROM review.queue_items WHERE workers::text LIKE '%$needle%'")" = 0 ] || fail "personal data in review's schema"
	[ "$(sql "SELECT count(*) FROM intake.application_workers WHERE name_sealed || resident_id_sealed || phone_sealed LIKE '%$needle%'")" = 0 ] || fail "unsealed personal data in intake"
	[ "$(sql "SELECT count(*) FROM intake.outbox WHERE payload LIKE '%$needle%'")" = 0 ] || fail "personal data in intake's outbox"
done

note "a redelivered event changes nothing"
before=$(sql "SELECT count(*) FROM review.queue_items")
jq -r .payload <<<"$rec" | kcat -b "$HC_KAFKA_BROKERS" -P -t "$TOPIC_APPLICATIONS" -k "$app_id" -H "ce_id=$ce_id"
wait_for "duplicate counted" 20 bash -c "curl -fsS $REVIEW/metrics | grep -q '^hc_consumer_duplicates_total{consumer=\"review\"} [1-9]'"
assert_eq "$(sql "SELECT count(*) FROM review.queue_items")" "$before" "queue rows after a redelivery"
echo "passed"
