#!/usr/bin/env bash
# kill -9 of the review consumer in the middle of a stream of 1,000
# applications, then a restart: every application ends up in its county's
# queue exactly once.  Offsets are stored only after the effect commits, so
# the restarted consumer redelivers what was in flight and processed_events
# turns each redelivery into a no-op.
. "$(dirname "$0")/lib.sh"

N=1000
tag="k9-$HC_TEST_RUN"
svc_start intake
svc_start review

note "prepare $N application bodies"
mkdir -p "$HC_TEST_TMP/k9"
template=$(application_json "__NAME__" 420111 1 5)
cfg=$HC_TEST_TMP/k9/curl.cfg
: >"$cfg"
for ((i = 0; i < N; i++)); do
	printf '%s' "${template/__NAME__/$tag-$i}" >"$HC_TEST_TMP/k9/$i.json"
	[ "$i" -gt 0 ] && echo next >>"$cfg"
	printf 'url = "%s/v1/employer-applications"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
		"$INTAKE" "$HC_TEST_TMP/k9/$i.json" >>"$cfg"
done

queued() { sql "SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'"; }

note "stream $N applications"
curl -sS --no-progress-meter --parallel --parallel-max 4 -K "$cfg" >"$HC_TEST_TMP/k9/codes" 2>"$HC_TEST_TMP/k9/curl.err" &
stream=$!

for ((i = 0; i < 600; i++)); do
	[ "$(queued)" -ge 100 ] && break
	sleep 0.1
done
at_kill=$(queued)
svc_kill9 review
note "review killed with $at_kill of $N queued"
[ "$at_kill" -ge 100 ] && [ "$at_kill" -lt "$N" ] || fail "kill was not in the middle of the stream ($at_kill queued)"
sleep 1
svc_start review

wait "$stream" || fail "the stream of POSTs failed"
assert_eq "$(grep -c '^201$' "$HC_TEST_TMP/k9/codes")" "$N" "accepted applications"
assert_eq "$(sql "SELECT count(*) FROM intake.employer_applications WHERE employer_name LIKE '$tag-%'")" "$N" "applications in intake"

note "wait for the queue to drain"
wait_for "$N queued" 120 bash -c "[ \"\$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'\")\" -ge $N ]"
sleep 2 # anything still arriving would be a duplicate: give it time to show
assert_eq "$(queued)" "$N" "queue items"
assert_eq "$(sql "SELECT count(DISTINCT application_id) FROM review.queue_items WHERE employer_name LIKE '$tag-%'")" "$N" "distinct applications queued"
assert_eq "$(sql "SELECT count(*) FROM intake.employer_applications a LEFT JOIN review.queue_items q ON q.application_id = a.id WHERE a.employer_name LIKE '$tag-%' AND q.application_id IS NULL")" 0 "applications missing from the queue"
# the applications' event ids, from the log (a record published twice carries the same id)
sql "SELECT id FROM intake.employer_applications WHERE employer_name LIKE '$tag-%'" >"$HC_TEST_TMP/k9/ids"
kafka_records "$TOPIC_APPLICATIONS" | jq -r --rawfile ids "$HC_TEST_TMP/k9/ids" \
	'select(.key as $k | $ids | split("\n") | index($k)) | .payload | fromjson | .id' | sort -u >"$HC_TEST_TMP/k9/events"
assert_eq "$(wc -l <"$HC_TEST_TMP/k9/events")" "$N" "events of the applications in the log"
assert_eq "$(sql "SELECT count(*) FROM review.processed_events WHERE event_id IN ($(sed "s/.*/'&'/" "$HC_TEST_TMP/k9/events" | paste -sd,))")" "$N" "processed events"
dups=$(curl -fsS "$REVIEW/metrics" | sed -n 's/^hc_consumer_duplicates_total{consumer="review"} //p')
note "redeliveries skipped after the restart: ${dups:-0}"
assert_eq "$(kafka_records "$TOPIC_APPLICATIONS.dlq" | grep -c "$tag" || true)" 0 "dead letters"
echo passed
