#!/usr/bin/env bash
# Consumers apply what piled up in batches, through the routes' batch
# handlers (matching's declarations, codegen's assessments, the gateway's
# partner events), with exactly the effect of one record at a time: matching
# and codegen are stopped (SIGSTOP, well within the session timeout) while
# 40 declarations arrive (a quarter declaring a fever, one person twice:
# first without, then with a fever), then resumed one after the other.
# Every person gets one assessment and one code version per declaration, in
# order, with the colour one at a time would give; the batch handlers did
# take runs of records (hc_consumer_run_records_total).  Then a backlog
# reaches codegen while PostgreSQL is down: the batch that cannot begin is
# retried, not skipped.
. "$(dirname "$0")/lib.sh"

start_platform
PARTNER=$(gw_client batch-partner partner)
gw_quota batch-partner 100000 100000
fever='{"temperature":38.2,"symptoms":[],"contact_with_cases":false,"risk_area_travel_14d":false}'
run_records() { # run_records URL: the records the service's batch handlers applied
	curl -fsS "$1/metrics" | awk '$1 ~ /^hc_consumer_run_records_total/ {n += $2} END {print n + 0}'
}
declare_one() { # declare_one NAME [HEALTH]: the person key
	AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" \
		"$(declaration_json "$(person_id "$1")" 420102 "" "${2:-}")"
	assert_eq "$STATUS" 201 "declaration of $1"
	jq -r .person_key <<<"$BODY"
}

warm=$(declare_one warm)
wait_for "a first code" 60 code_is "$warm" '.colour == "green"'
m0=$(run_records "$MATCHING")
c0=$(run_records "$CODEGEN")

note "matching and codegen stopped; 40 declarations"
kill -STOP "$(cat "$HC_TEST_TMP/matching.pid")" "$(cat "$HC_TEST_TMP/codegen.pid")"
trap 'kill -CONT "$(cat "$HC_TEST_TMP/matching.pid")" "$(cat "$HC_TEST_TMP/codegen.pid")" 2>/dev/null || true' ERR
declare -A key colour
for i in $(seq 1 39); do
	if [ $((i % 4)) -eq 0 ]; then
		key[p$i]=$(declare_one "batch$i" "$fever")
		colour[p$i]=yellow
	else
		key[p$i]=$(declare_one "batch$i")
		colour[p$i]=green
	fi
done
twice=${key[p1]}
[ "$(declare_one batch1 "$fever")" = "$twice" ] || fail "the second declaration of batch1 has another key"
colour[p1]=yellow

note "matching resumed alone, then codegen"
kill -CONT "$(cat "$HC_TEST_TMP/matching.pid")"
assessed() { [ "$(sql "SELECT count(*) FROM matching.assessments WHERE person_key IN ($(printf "'%s'," "${key[@]}" | sed 's/,$//'))")" -eq 40 ]; }
wait_for "40 assessments" 60 assessed
kill -CONT "$(cat "$HC_TEST_TMP/codegen.pid")"
trap - ERR
coded() { [ "$(sql "SELECT count(*) FROM codegen.code_versions WHERE person_key IN ($(printf "'%s'," "${key[@]}" | sed 's/,$//'))")" -ge 40 ]; }
wait_for "40 code versions" 60 coded

for p in "${!key[@]}"; do
	k=${key[$p]}
	n=1
	[ "$k" = "$twice" ] && n=2
	assert_eq "$(sql "SELECT count(*) FROM matching.assessments WHERE person_key = '$k'")" "$n" "assessments of $p"
	assert_eq "$(sql "SELECT string_agg(version::text, ',' ORDER BY version) FROM codegen.code_versions WHERE person_key = '$k'")" \
		"$(seq -s, 1 $n)" "code versions of $p"
	code_is "$k" ".colour == \"${colour[$p]}\" and .version == $n" || fail "$p: $(curl -fsS "$CODEGEN/v1/codes/$k")"
done
assert_eq "$(sql "SELECT string_agg(colour, ',' ORDER BY version) FROM codegen.code_versions WHERE person_key = '$twice'")" \
	green,yellow "the person declared twice, in order"
m1=$(run_records "$MATCHING")
c1=$(run_records "$CODEGEN")
[ "$((m1 - m0))" -ge 2 ] || fail "matching applied no run of declarations at once ($m0 -> $m1)"
[ "$((c1 - c0))" -ge 2 ] || fail "codegen applied no run of assessments at once ($c0 -> $c1)"
note "runs applied at once: matching $((m1 - m0)) records, codegen $((c1 - c0))"

note "a backlog reaching codegen while PostgreSQL is down: retried until it is back, none skipped"
kill -STOP "$(cat "$HC_TEST_TMP/codegen.pid")"
trap 'kill -CONT "$(cat "$HC_TEST_TMP/codegen.pid")" 2>/dev/null || true' ERR
declare -A late
t_late=$(sql "SELECT now()")
for i in $(seq 1 10); do late[q$i]=$(declare_one "late$i"); done
late_keys=$(printf "'%s'," "${late[@]}" | sed 's/,$//')
# counted through these declarations, not by person: a generated ID may, rarely, be one another
# test declared already (the ID space is a few million), and that person has its own assessment
late_from="intake.declarations d JOIN matching.assessments a ON a.trigger_kind = 'declaration'
	AND a.trigger_id = d.id::text WHERE d.person_key IN ($late_keys) AND d.submitted_at >= '$t_late'"
late_assessed() { [ "$(sql "SELECT count(*) FROM $late_from")" -eq 10 ]; }
wait_for "10 more assessments" 60 late_assessed
runuser -u postgres -- "$HC_PG_BIN/pg_ctl" -D "$HC_PG_DATA" -m immediate -w stop >/dev/null
kill -CONT "$(cat "$HC_TEST_TMP/codegen.pid")"
trap - ERR
sleep 3 # codegen takes the backlog from Kafka and cannot begin its transaction
deploy/local/pg.sh start >/dev/null
late_coded() { [ "$(sql "SELECT count(*) FROM $late_from
	AND EXISTS (SELECT 1 FROM codegen.code_versions v WHERE v.assessment_id = a.id)")" -eq 10 ]; }
wait_for "a code for each of the 10" 60 late_coded
echo passed
