#!/usr/bin/env bash
# Malformed messages on the applications topic go to <topic>.dlq, unchanged,
# with headers naming the original topic, partition, offset, consumer and
# error; the consumer moves on and a good event behind them (same key, so
# the same partition) is applied.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start review

key=$(cat /proc/sys/kernel/random/uuid)
produce() { printf '%s' "$1" | kcat -b "$HC_KAFKA_BROKERS" -P -t "$TOPIC_APPLICATIONS" -k "$key"; }

note "three poison records: not JSON, not a CloudEvent, a CloudEvent with bad data"
produce "this is not json $HC_TEST_RUN"
produce "{\"hello\":\"$HC_TEST_RUN\"}"
produce "{\"specversion\":\"1.0\",\"id\":\"bad-$HC_TEST_RUN\",\"source\":\"/test\",\"type\":\"hc.intake.employer-application.submitted.v1\",\"data\":{\"application_id\":\"$key\",\"county_code\":\"999999\"}}"

note "then a good application with the same key"
good=$(jq -c --arg id "$key" --arg run "$HC_TEST_RUN" '{specversion:"1.0", id:("good-" + $run), source:"/test",
	type:"hc.intake.employer-application.submitted.v1", time:"2026-02-01T08:00:00Z",
	data:{application_id:$id, employer_name:"死信测试", credit_code:"91420100MA4K3W5T0H", county_code:"420102",
	category:"public_utilities", submitted_at:"2026-02-01T08:00:00.000000Z", worker_count:1,
	workers:[{person_key:("a" * 64), masked_name:"王*"}]}}' <<<'{}')
produce "$good"

wait_for "the good event applied" 30 curl -fsS "$REVIEW/v1/queue-items/$key"
wait_for "three dead letters" 30 bash -c "[ \$(kcat -b $HC_KAFKA_BROKERS -C -t '$TOPIC_APPLICATIONS.dlq' -o beginning -e -q -J 2>/dev/null | grep -c '$key') -ge 3 ]"
dlq=$(kafka_records "$TOPIC_APPLICATIONS.dlq" | jq -c --arg k "$key" 'select(.key == $k)')
assert_eq "$(wc -l <<<"$dlq")" 3 "dead letters for the key"

hdr() { jq -r --arg h "$2" '.headers as $h | [range(0; $h | length; 2) | select($h[.] == $ARGS.named.h) | $h[. + 1]] | first // empty' <<<"$1"; }
orig=$(kafka_records "$TOPIC_APPLICATIONS" | jq -c --arg k "$key" 'select(.key == $k)')
i=0
while read -r d; do
	o=$(sed -n "$((i + 1))p" <<<"$orig")
	assert_eq "$(jq -r .payload <<<"$d")" "$(jq -r .payload <<<"$o")" "dead letter $i payload unchanged"
	assert_eq "$(hdr "$d" dlq_topic)" "$TOPIC_APPLICATIONS" "dlq_topic"
	assert_eq "$(hdr "$d" dlq_partition)" "$(jq -r .partition <<<"$o")" "dlq_partition"
	assert_eq "$(hdr "$d" dlq_offset)" "$(jq -r .offset <<<"$o")" "dlq_offset"
	assert_eq "$(hdr "$d" dlq_consumer)" review "dlq_consumer"
	[ -n "$(hdr "$d" dlq_error)" ] || fail "dlq_error missing"
	note "dead letter $i: $(hdr "$d" dlq_error)"
	i=$((i + 1))
done <<<"$dlq"
grep -q "field data\.employer_name" <<<"$(hdr "$(sed -n 3p <<<"$dlq")" dlq_error)" || fail "bad data error does not name the field"

note "nothing of the poison reached the queue; the consumer keeps going"
assert_eq "$(sql "SELECT count(*) FROM review.processed_events WHERE event_id = 'bad-$HC_TEST_RUN'")" 0 "processed row of a dead letter"
http POST "$INTAKE/v1/employer-applications" "$(application_json "after-dlq-$HC_TEST_RUN" 420102 1 3)"
after=$(jq -r .id <<<"$BODY")
wait_for "a later application queued" 30 curl -fsS "$REVIEW/v1/queue-items/$after"
curl -fsS "$REVIEW/metrics" | holds '^hc_consumer_dead_letters_total{consumer="review"} 3$' || fail "dead letters not counted"
echo passed
