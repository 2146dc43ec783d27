#!/usr/bin/env bash
# kill -9 of intake between commit and publish: applications committed with
# their outbox rows, the process killed before its relay published them.  On
# restart the relay publishes every row; nothing is lost and each
# application reaches its queue once.
. "$(dirname "$0")/lib.sh"

N=20
tag="cp-$HC_TEST_RUN"
# The relay waits 10 minutes before publishing: the window between commit
# and publish, held open so the kill lands inside it.
svc_start intake HC_OUTBOX_RELAY_DELAY_MS=600000
svc_start review

ids=()
for ((i = 0; i < N; i++)); do
	http POST "$INTAKE/v1/employer-applications" "$(application_json "$tag-$i" 420606 1 $((i + 40)))"
	assert_eq "$STATUS" 201 "POST $i"
	ids+=("$(jq -r .id <<<"$BODY")")
done
unpublished() { sql "SELECT count(*) FROM intake.outbox o JOIN intake.employer_applications a ON a.id::text = o.key WHERE a.employer_name LIKE '$tag-%'"; }
assert_eq "$(unpublished)" "$N" "committed, unpublished outbox rows"
sleep 2
assert_eq "$(sql "SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'")" 0 "queued before publish"

svc_kill9 intake
assert_eq "$(unpublished)" "$N" "outbox rows after the kill"

note "restart intake with the relay running"
svc_start intake
wait_for "outbox published" 60 bash -c "[ \"\$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM intake.outbox o JOIN intake.employer_applications a ON a.id::text = o.key WHERE a.employer_name LIKE '$tag-%'\")\" = 0 ]"
wait_for "all queued" 60 bash -c "[ \"\$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'\")\" = $N ]"
for id in "${ids[@]}"; do
	http GET "$REVIEW/v1/queue-items/$id"
	assert_eq "$STATUS" 200 "queue item $id"
done
assert_eq "$(kafka_records "$TOPIC_APPLICATIONS" | grep -c "$tag-")" "$N" "records on Kafka"
echo passed
