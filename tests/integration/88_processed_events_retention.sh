#!/usr/bin/env bash
# processed_events stays bounded by what the log holds.  Once a partition's
# records are deleted (as retention deletes them; here with hc-topics
# delete-records), each consumer deletes its rows of those records
# (HC_PROCESSED_PURGE_S), and only those, whichever consumer name wrote them (a name
# retired with an earlier release leaves none behind).  A copy of an event published
# again (as a relay's retry publishes one) is skipped, not applied twice, and
# moves the event's row to the copy, which keeps the row while the copy is in
# the log.  Rows of a topic no consumer of the service reads go as that
# topic's records leave the log; those of a topic the broker does not know stay.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start review HC_PROCESSED_PURGE_S=1
T=$TOPIC_APPLICATIONS
rows() { # rows [WHERE...]: review's processed_events rows of the applications topic
	sql "SELECT count(*) FROM review.processed_events WHERE consumer = 'review' AND topic = '$T' ${1:+AND $1}"
}
rows_are() { [ "$(rows "${2:-}")" = "$1" ]; }
submit() { # submit TAG: the new application's id
	http POST "$INTAKE/v1/employer-applications" "$(application_json "$1" 420102 1)"
	assert_eq "$STATUS" 201 "application $1"
	jq -r .id <<<"$BODY"
}
queued() { [ "$(sql "SELECT count(*) FROM review.queue_items WHERE application_id = '$1'")" = 1 ]; }

note "three applications, each processed by review once"
before=$(rows)
ids=()
for i in 1 2 3; do ids+=("$(submit "retention-$i-$HC_TEST_RUN")"); done
for id in "${ids[@]}"; do wait_for "application $id in its queue" 30 queued "$id"; done
wait_for "three more rows" 30 rows_are $((before + 3))

note "a copy of the first application's event: skipped, and its row moves to the copy"
rec=$(kafka_records "$T" | jq -c --arg id "${ids[0]}" 'select(.payload | contains($id))')
[ "$(wc -l <<<"$rec")" = 1 ] || fail "expected one record of ${ids[0]}, got: $rec"
part=$(jq -r .partition <<<"$rec")
event=$(jq -r '.payload | fromjson | .id' <<<"$rec")
# another record before the copy in its partition (keys, and so partitions, are random)
for ((i = 0; i < 60; i++)); do
	[ "$(rows "partition = $part AND event_id <> '$event'")" -ge 1 ] && break
	extra=$(submit "retention-extra-$i-$HC_TEST_RUN")
	wait_for "application $extra in its queue" 30 queued "$extra"
done
headers=()
while IFS=$'\t' read -r name value; do headers+=(-H "$name=$value"); done < <(jq -r '.headers // [] | _nwise(2) | @tsv' <<<"$rec")
jq -r .payload <<<"$rec" | kcat -P -b "$HC_KAFKA_BROKERS" -t "$T" -p "$part" -k "$(jq -r .key <<<"$rec")" "${headers[@]}"
copy=$(kafka_records "$T" | jq -r --arg id "${ids[0]}" 'select(.payload | contains($id)) | .offset' | tail -1)
[ "$copy" -gt "$(jq -r .offset <<<"$rec")" ] || fail "the copy was not published after the original"
moved() { [ "$(sql "SELECT partition || ':' || \"offset\" FROM review.processed_events WHERE consumer = 'review' AND event_id = '$event'")" = "$part:$copy" ]; }
wait_for "the row of $event to move to the copy" 30 moved
queued "${ids[0]}" || fail "the copy was applied again"

all=$(rows)
note "records before the copy deleted from its partition: their rows go, the copy's stays"
[ "$(rows "partition = $part AND \"offset\" < $copy")" -ge 1 ] || fail "no rows before the copy in partition $part"
# rows a consumer name retired with an earlier release left: one before the copy, one at it
sql "INSERT INTO review.processed_events (consumer, event_id, topic, partition, \"offset\") VALUES
     ('review-retired', 'retired-before-$HC_TEST_RUN', '$T', $part, $((copy - 1))),
     ('review-retired', 'retired-at-$HC_TEST_RUN', '$T', $part, $copy)" >/dev/null
"$HC_BUILD/bin/hc-topics" delete-records "$HC_KAFKA_BROKERS" "$T" "$part" "$copy" >/dev/null
wait_for "rows before offset $copy of partition $part purged" 30 rows_are 0 "partition = $part AND \"offset\" < $copy"
moved || fail "the row of the event whose copy is still in the log was purged"
assert_eq "$(rows "event_id = '$event'")" 1 "the copy's row"
retired_left() { sql "SELECT coalesce(string_agg(event_id, ',' ORDER BY event_id), '-') FROM review.processed_events WHERE consumer = 'review-retired'"; }
retired_purged() { [ "$(retired_left)" = "retired-at-$HC_TEST_RUN" ]; }
wait_for "the retired name's row before offset $copy purged (its row at $copy kept)" 30 retired_purged

note "a topic no consumer of review reads any more: its rows go as its records leave the log"
OLD=hc.test.retired-$HC_TEST_RUN.v1
printf '%s 1\n' "$OLD" >"$HC_TEST_TMP/topics.txt"
"$HC_BUILD/bin/hc-topics" create "$HC_KAFKA_BROKERS" "$HC_TEST_TMP/topics.txt" "$HC_KAFKA_TOPIC_PREFIX" >/dev/null ||
	fail "could not create $OLD"
printf 'k\t{}\nk\t{}\nk\t{}\n' | kcat -b "$HC_KAFKA_BROKERS" -P -t "$HC_KAFKA_TOPIC_PREFIX$OLD" -p 0 -K $'\t'
# and a topic the broker does not know: its row stays (no proof its records are gone)
sql "INSERT INTO review.processed_events (consumer, event_id, topic, partition, \"offset\")
     SELECT 'review-old', 'old-' || o || '-$HC_TEST_RUN', '$HC_KAFKA_TOPIC_PREFIX$OLD', 0, o FROM generate_series(0, 2) o
     UNION ALL SELECT 'review-old', 'unknown-$HC_TEST_RUN', '${HC_KAFKA_TOPIC_PREFIX}hc.test.unknown-$HC_TEST_RUN.v1', 0, 0" >/dev/null
"$HC_BUILD/bin/hc-topics" delete-records "$HC_KAFKA_BROKERS" "$HC_KAFKA_TOPIC_PREFIX$OLD" 0 2 >/dev/null
old_left() { sql "SELECT string_agg(event_id, ',' ORDER BY event_id) FROM review.processed_events WHERE consumer = 'review-old'"; }
old_purged() { [ "$(old_left)" = "old-2-$HC_TEST_RUN,unknown-$HC_TEST_RUN" ]; }
wait_for "the rows of offsets 0 and 1 of $OLD purged (offset 2's kept, the unknown topic's kept)" 30 old_purged
sleep 3 # three more purges
assert_eq "$(old_left)" "old-2-$HC_TEST_RUN,unknown-$HC_TEST_RUN" "rows left of the topics review does not read"
"$HC_BUILD/bin/hc-topics" delete "$HC_KAFKA_BROKERS" "$HC_TEST_TMP/topics.txt" "$HC_KAFKA_TOPIC_PREFIX" >/dev/null
sql "DELETE FROM review.processed_events WHERE consumer = 'review-old'" >/dev/null

note "every record deleted: every row of the topic goes; a new one stays"
for p in $(seq 0 5); do "$HC_BUILD/bin/hc-topics" delete-records "$HC_KAFKA_BROKERS" "$T" "$p" >/dev/null; done
wait_for "every row of the topic purged" 30 rows_are 0
late=$(submit "retention-late-$HC_TEST_RUN")
wait_for "the late application in its queue" 30 queued "$late"
# every row the topic had before the deletions (this run's earlier tests' and this one's) was
# purged, and the retired name's two
retired_gone() { [ "$(retired_left)" = - ]; }
wait_for "the retired name's rows once every record is deleted" 30 retired_gone
sleep 3 # three more purges
assert_eq "$(rows)" 1 "rows after three more purges: the late application's"
purged=$(curl -fsS "$REVIEW/metrics" | awk '$1 ~ /^hc_consumer_processed_purged_total/ {n += $2} END {print n + 0}')
assert_eq "$purged" "$((all + 4))" "hc_consumer_processed_purged_total"
echo passed
