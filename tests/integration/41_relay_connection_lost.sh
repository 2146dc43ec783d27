#!/usr/bin/env bash
# The outbox relay's database connection lost while it works (the server
# restarted, a proxy cut it, an operator ended the backend): the relay comes
# back as a new session that takes the relay's lock again (one relay per
# schema publishes, or per-key order breaks when a second replica starts) and
# listens again.  The relay's backend is ended ten times while applications
# keep coming; each time a new backend must hold the lock, and every
# application accepted reaches Kafka and review's queue, once.
. "$(dirname "$0")/lib.sh"

tag="rl-$HC_TEST_RUN"
svc_start intake
svc_start review

# the backend holding intake's relay lock (bus_relay_lock: an advisory lock on hashtext of
# 'intake:relay'; pg_locks shows its low 32 bits as objid)
relay_backend() {
	sql "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND objid = (hashtext('intake:relay')::bigint & 4294967295)::oid
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
}
held_by_other_than() { local p; p=$(relay_backend); [ -n "$p" ] && [ "$p" != "$1" ]; }
wait_for "the relay's lock" 30 held_by_other_than none

N=300
for ((i = 0; i < N; i++)); do application_json "$tag-$i" 420606 1 "$i"; echo; done >"$HC_TEST_TMP/apps.ndjson"
# applications posted one after another while the relay's backend is ended again and again
(
	while IFS= read -r body; do
		curl -s -o /dev/null -w '%{http_code}\n' -X POST -H 'Content-Type: application/json' \
			--data-binary "$body" "$INTAKE/v1/employer-applications"
	done <"$HC_TEST_TMP/apps.ndjson" >"$HC_TEST_TMP/statuses"
) &
poster=$!
for ((k = 0; k < 10; k++)); do
	sleep 0.$((RANDOM % 5 + 2))
	old=$(relay_backend)
	[ -n "$old" ] || fail "no backend holds the relay's lock (ending $k)"
	assert_eq "$(sql "SELECT pg_terminate_backend($old)")" t "ending the relay's backend $old"
	wait_for "a new backend holding the relay's lock after ending $old" 15 held_by_other_than "$old"
done
wait "$poster"
accepted=$(grep -c '^201$' "$HC_TEST_TMP/statuses")
note "$accepted of $N applications accepted while the relay's backend was ended ten times"
[ "$accepted" -ge $((N / 2)) ] || fail "only $accepted of $N applications were accepted"
published() { [ "$(kafka_records "$TOPIC_APPLICATIONS" | jq -r 'select(.payload | contains("'"$tag"'-")) | .key' | sort -u | wc -l)" -ge "$accepted" ]; }
wait_for "every accepted application on Kafka" 60 published
assert_eq "$(sql "SELECT count(*) FROM intake.outbox")" 0 "outbox rows left"
# and each once in review's queue, however many times the relay published it
queued_all() { [ "$(sql "SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'")" -ge "$accepted" ]; }
wait_for "every accepted application in review's queue" 60 queued_all
assert_eq "$(sql "SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'")" "$accepted" "queue items"
echo passed
