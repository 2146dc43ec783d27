#!/usr/bin/env bash
# SIGTERM is a clean stop: review finishes the event in hand, commits its
# stored offsets and closes the consumer; intake's relay stops and the
# producer flushes.  Both exit 0 promptly, and a restarted review resumes
# where it stopped, with no redelivery to skip.
. "$(dirname "$0")/lib.sh"

N=300
tag="term-$HC_TEST_RUN"
svc_start intake
svc_start review

template=$(application_json "__NAME__" 420112 1 7)
for ((i = 0; i < N; i++)); do
	[ "$i" -gt 0 ] && echo next
	printf '%s' "${template/__NAME__/$tag-$i}" >"$HC_TEST_TMP/term-$i.json"
	printf 'url = "%s/v1/employer-applications"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
		"$INTAKE" "$HC_TEST_TMP/term-$i.json"
done >"$HC_TEST_TMP/term.cfg"
queued() { sql "SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'"; }

curl -sS --no-progress-meter --parallel --parallel-max 2 -K "$HC_TEST_TMP/term.cfg" >"$HC_TEST_TMP/term.codes" &
stream=$!
wait_for "some queued" 60 bash -c "[ \$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'\") -ge 30 ]"

note "SIGTERM review mid-stream"
pid=$(cat "$HC_TEST_TMP/review.pid")
start=$(date +%s%N)
kill -TERM "$pid"
while kill -0 "$pid" 2>/dev/null; do
	sleep 0.05
	[ $((($(date +%s%N) - start) / 1000000)) -lt 15000 ] || fail "review did not stop within 15 s of SIGTERM"
done
note "review stopped $((($(date +%s%N) - start) / 1000000)) ms after SIGTERM"
set +e
wait "$pid"
rc=$?
set -e
assert_eq "$rc" 0 "review's exit status"
grep -q '"msg":"consumer review stopped"' "$HC_TEST_TMP/review.log" || fail "consumer did not close cleanly"
rm -f "$HC_TEST_TMP/review.pid"
wait "$stream"
assert_eq "$(grep -c '^201$' "$HC_TEST_TMP/term.codes")" "$N" "accepted while review was down"

note "restart: the rest arrives, nothing is redelivered"
svc_start review
wait_for "all queued" 60 bash -c "[ \$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM review.queue_items WHERE employer_name LIKE '$tag-%'\") = $N ]"
dups=$(curl -fsS "$REVIEW/metrics" | sed -n 's/^hc_consumer_duplicates_total{consumer="review"} //p')
assert_eq "${dups:-0}" 0 "redeliveries after a clean stop"

note "SIGTERM intake: exit status 0, nothing left unpublished"
kill -TERM "$(cat "$HC_TEST_TMP/intake.pid")"
wait_exit intake 15
assert_eq "$EXIT_STATUS" 0 "intake's exit status"
grep -q '"msg":"stopping"' "$HC_TEST_TMP/intake.log" || fail "intake did not log its stop"
assert_eq "$(sql "SELECT count(*) FROM intake.outbox")" 0 "unpublished outbox rows"
echo passed
