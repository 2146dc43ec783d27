#!/usr/bin/env bash
# The re-assessment queue: a record touching more people than
# HC_REASSESS_SYNC_MAX (here 2) queues them in the import's transaction and
# the service's workers re-assess them a chunk at a time.
#   - with matching stopped, two imports raise the same county to high risk:
#     its people are queued (twice each), nothing is assessed yet;
#   - matching killed with SIGKILL and restarted: the queue is still there
#     and every queued person is re-assessed exactly once (one assessment,
#     one new code version), in a county's worth of chunks; nobody else is;
#   - over HTTP the answer says how many were queued, and they follow.
. "$(dirname "$0")/lib.sh"

export HC_REASSESS_SYNC_MAX=2 HC_REASSESS_WORKERS=3
start_platform
grep -q '"3 re-assessment workers"' "$HC_TEST_TMP/matching.log" || fail "HC_REASSESS_WORKERS not applied"
# sequential scans of the outboxes so far (migrations, relays polling); the relays must add none
outbox_seq_scans() { sql "SELECT coalesce(sum(seq_scan), 0) FROM pg_stat_user_tables WHERE relname = 'outbox' AND schemaname IN ('matching', 'codegen')"; }
seq_before=$(outbox_seq_scans)
PARTNER=$(gw_client rq-partner partner)
PROVINCE=$(gw_client rq-province provincial)
HIGH=420113  # raised to high risk by the command
HIGH2=420114 # raised over HTTP
declare -A key
declare_person() { # declare_person NAME COUNTY
	AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id "$1")" "$2")"
	assert_eq "$STATUS" 201 "declaration of $1: $BODY"
	key[$1]=$(jq -r .person_key <<<"$BODY")
}
assessments() { curl -fsS "$MATCHING/v1/people/${key[$1]}/assessments" | jq length; }
versions() { curl -fsS "$CODEGEN/v1/codes/${key[$1]}/history" | jq length; }
matching_import() {
	HC_DATABASE_URL="$(hc_db_url matching "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		"$HC_BUILD/bin/hc-matching" import "$@"
}
queued() { sql "SELECT count(*) FROM matching.reassessments"; }

people=(p1 p2 p3 p4 p5 p6)
for p in "${people[@]}"; do declare_person "$p" $HIGH; done
for p in h1 h2 h3; do declare_person "$p" $HIGH2; done
declare_person elsewhere 420106
for p in "${people[@]}" h1 h2 h3 elsewhere; do
	wait_for "$p green" 30 code_is "${key[$p]}" '.colour == "green" and .version == 1'
done
today=$(date -u +%F)

note "matching stopped; the county raised to high risk by two imports"
kill -STOP "$(cat "$HC_TEST_TMP/matching.pid")"
for n in 1 2; do
	printf 'source,record_id,kind,resident_id,county_code,date,level\nrisk_areas,rq-%s-%s,risk_level,,%s,%s,high\n' \
		"$HC_TEST_RUN" "$n" $HIGH "$today" >"$HC_TEST_TMP/risk$n.csv"
	out=$(matching_import "$HC_TEST_TMP/risk$n.csv")
	grep -q "imported 1 records, 0 people re-assessed, 6 people queued for re-assessment, 0 lines rejected" <<<"$out" ||
		fail "import $n: $out"
done
assert_eq "$(queued)" 12 "people queued (each twice)"
for p in "${people[@]}"; do assert_eq "$(sql "SELECT count(*) FROM matching.assessments WHERE person_key = '${key[$p]}'")" 1 "assessments of $p before the workers"; done

note "matching killed while the queue waits, then restarted"
sleep 1 # every queued person waits at least this long
svc_kill9 matching
svc_start matching
for p in "${people[@]}"; do
	wait_for "$p yellow" 30 code_is "${key[$p]}" '.colour == "yellow" and .reason.rule_id == "risk-area" and .version == 2'
done
wait_for "the queue empty" 10 bash -c "[ \"\$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c 'SELECT count(*) FROM matching.reassessments')\" = 0 ]"
sleep 2 # anything applied twice would show by now
for p in "${people[@]}"; do
	assert_eq "$(assessments "$p")" 2 "assessments of $p"
	assert_eq "$(versions "$p")" 2 "code versions of $p"
	code_is "${key[$p]}" "[.reason.evidence[] | select(.kind == \"high_risk_residence\") | .record_id] == [\"rq-$HC_TEST_RUN-2\"]" ||
		fail "$p: the county's latest risk record is not the evidence"
done
assert_eq "$(assessments elsewhere)" 1 "assessments of someone elsewhere"
assert_eq "$(sql "SELECT count(*) FROM matching.assessments a JOIN matching.people p USING (person_key)
	WHERE p.county_code = '$HIGH' AND a.trigger_kind = 'import'")" 6 "queued re-assessments recorded"
curl -fsS "$MATCHING/metrics" | holds '^hc_matching_reassessed_queued_total 6$' ||
	fail "the workers' metric: $(curl -fsS "$MATCHING/metrics" | grep reassess)"
# the queue's age: each committed chunk observes how long its longest-waiting person waited
curl -fsS "$MATCHING/metrics" | awk '$1 == "hc_matching_reassess_wait_seconds_count{}" {c = $2}
	$1 == "hc_matching_reassess_wait_seconds_sum{}" {s = $2} END {exit !(c >= 1 && s >= 1)}' ||
	fail "the queue's wait: $(curl -fsS "$MATCHING/metrics" | grep reassess_wait)"

note "over HTTP: the answer counts the people queued"
AUTH=$PROVINCE http POST "$GATEWAY/v1/reference-records" \
	"$(jq -nc --arg c $HIGH2 --arg d "$today" --arg id "rq-http-$HC_TEST_RUN" '{records:[{source:"risk_areas", record_id:$id, kind:"risk_level", county_code:$c, date:$d, level:"high"}]}')"
assert_eq "$STATUS" 200 "import over HTTP"
assert_eq "$(jq -c . <<<"$BODY")" '{"inserted":1,"duplicates":0,"reassessed":0,"queued":3}' "import result"
for p in h1 h2 h3; do
	wait_for "$p yellow" 30 code_is "${key[$p]}" '.colour == "yellow" and .reason.rule_id == "risk-area" and .version == 2'
done
assert_eq "$(queued)" 0 "the queue after the HTTP import"

# A wave much larger than a chunk, arriving after the queue was analysed empty: each chunk still
# holds at most MATCHING_ASSESS_CHUNK (500) people.  The take once read its ids through
# "id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)": planned from statistics of an empty queue,
# that subquery ran again for every queued row, and as the rows the statement had already deleted
# were skipped, its LIMIT slid along the queue: here the three workers took the 3,000 in three
# chunks of 668 to 1,332, and on a queue of 30,000 one statement took them all, in 76 s.
note "a wave of 3,000 after the workers polled an empty queue"
sql "ANALYZE matching.reassessments" >/dev/null
sleep 3 # the workers poll once a second: their next takes are planned from these statistics
chunk_lines() { grep -o '"re-assessed [0-9]* queued people' "$HC_TEST_TMP/matching.log" | grep -o '[0-9]*'; }
before=$(chunk_lines | wc -l)
# people nobody declared: each is taken from the queue and has nothing to assess
sql "INSERT INTO matching.reassessments (person_key, trigger_kind, trigger_id, traceparent)
	SELECT encode(sha256(('wave-$HC_TEST_RUN-' || g)::bytea), 'hex'), 'import', 'wave', '00-$(printf '%032d' 1)-$(printf '%016d' 1)-01'
	FROM generate_series(1, 3000) g" >/dev/null
wait_for "the wave taken from the queue" 60 bash -c "[ \"\$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c 'SELECT count(*) FROM matching.reassessments')\" = 0 ]"
wave=$(chunk_lines | tail -n +$((before + 1)))
[ -n "$wave" ] || fail "no chunk of the wave in the log"
assert_eq "$(awk '{s += $1} END {print s}' <<<"$wave")" 3000 "people taken in the wave's chunks"
largest=$(sort -n <<<"$wave" | tail -1)
[ "$largest" -le 500 ] || fail "a chunk of $largest people (at most 500): $(tr '\n' ' ' <<<"$wave")"

# The outbox relays read by primary key only (db_avoid_seqscans): planned from statistics of an
# empty outbox, their reads became sorts of the whole table once it was long (0.3 s a batch at
# 100,000 rows in the bench).  A backend reports its scans within 10 s of going idle.
sleep 11
assert_eq "$(outbox_seq_scans)" "$seq_before" "sequential scans of matching's and codegen's outboxes"
echo passed
