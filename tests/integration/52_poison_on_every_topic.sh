#!/usr/bin/env bash
# A poison record on every consumed topic, with all seven services running:
# each consumer of the topic dead-letters it to <topic>.dlq (naming itself
# in dlq_consumer) and keeps going; a declaration made afterwards still
# becomes a code.
. "$(dirname "$0")/lib.sh"

start_platform
PARTNER=$(gw_client poison-partner partner)
declare -A consumers=(
	[hc.intake.employer-application.v1]="certificate gateway review"
	[hc.intake.declaration.v1]="analytics certificate codegen gateway matching"
	[hc.intake.correction.v1]="review"
	[hc.review.decision.v1]="analytics certificate gateway intake matching"
	[hc.matching.assessment.v1]="certificate codegen"
	[hc.certificate.certificate.v1]="analytics codegen gateway"
	[hc.codegen.code.v1]="analytics gateway"
	[hc.codegen.scan.v1]="analytics matching"
)
key="poison-$HC_TEST_RUN"
for t in "${!consumers[@]}"; do
	printf 'not an event %s' "$HC_TEST_RUN" | kcat -b "$HC_KAFKA_BROKERS" -P -t "$HC_KAFKA_TOPIC_PREFIX$t" -k "$key"
done
hdr() { jq -r --arg h "$2" '.headers as $h | [range(0; $h | length; 2) | select($h[.] == $ARGS.named.h) | $h[. + 1]] | first // empty' <<<"$1"; }
for t in "${!consumers[@]}"; do
	want=$(wc -w <<<"${consumers[$t]}")
	wait_for "$want dead letters on $t.dlq" 30 bash -c "[ \$(kcat -b $HC_KAFKA_BROKERS -C -t '$HC_KAFKA_TOPIC_PREFIX$t.dlq' -o beginning -e -q -J 2>/dev/null | grep -c '\"$key\"') -ge $want ]"
	got=$(kafka_records "$HC_KAFKA_TOPIC_PREFIX$t.dlq" | jq -c --arg k "$key" 'select(.key == $k)' |
		while read -r d; do hdr "$d" dlq_consumer; done | sort | xargs)
	assert_eq "$got" "${consumers[$t]}" "consumers that dead-lettered $t"
done

note "every consumer keeps going"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id after)" 420106)"
assert_eq "$STATUS" 201 "declaration after the poison"
wait_for "its code" 30 code_is "$(jq -r .person_key <<<"$BODY")" '.colour == "green"'
echo passed
