#!/usr/bin/env bash
# The fault suite: under steady load through the gateway (declarations of
# new people, and checkpoint verifications), one fault after another:
# SIGKILL of each service, PostgreSQL stopped with `pg_ctl -m immediate`,
# the Kafka broker SIGKILLed, matching SIGSTOPped past its session timeout,
# a poison record on the declaration topic.  After each, an invariant
# checker: every acknowledged declaration has its assessment and its code,
# every acknowledged verification its scan; one assessment per declaration;
# code versions 1..n per person and the current code the latest; every
# version with rule and evidence; every outbox drained; every Idempotency-Key
# the services claimed (the load sends one with each request) kept with its
# answer, never an effect without it.  Each fault reports
# what the load saw and how long until everything acknowledged took effect.
# FULL=1 repeats the service kills three times.
. "$(dirname "$0")/lib.sh"

RECOVERY_S=120 # the stated bound for effects and outboxes to catch up
CODEGEN_ENV=(HC_TOKEN_TTL_S=3600)
MATCHING_ENV=(HC_KAFKA_SESSION_TIMEOUT_MS=6000)
start_one() {
	case $1 in
	codegen) svc_start codegen "${CODEGEN_ENV[@]}" ;;
	matching) svc_start matching "${MATCHING_ENV[@]}" ;;
	*) svc_start "$1" ;;
	esac
}
for s in intake review matching certificate codegen gateway; do start_one "$s"; done
PARTNER=$(gw_client fault-partner partner)
CHECKPOINT=$(gw_client fault-checkpoint checkpoint)
gw_quota fault-partner 1000000 1000000
gw_quota fault-checkpoint 1000000 1000000

AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id shown)" 420102)"
assert_eq "$STATUS" 201 "the checkpoint's person"
shown=$(jq -r .person_key <<<"$BODY")
wait_for "a code" 60 code_is "$shown" '.colour == "green"'
AUTH=$PARTNER http GET "$GATEWAY/v1/codes/$shown/token"
jq -c '{token: .token, checkpoint_id: "fault-gate", temperature: 36.4}' <<<"$BODY" >"$HC_TEST_TMP/verify.json"

acked=$HC_TEST_TMP/acked.txt
: >"$acked"
# The load: a declaration of a new person and a verification, ~8 of each a
# second; only 201/200 answers count as acknowledged.
(
	set +e
	i=0
	while [ ! -e "$HC_TEST_TMP/load.stop" ]; do
		i=$((i + 1))
		out=$(curl -sS --max-time 10 -H "Authorization: Bearer $PARTNER" -H 'Content-Type: application/json' \
			-H "Idempotency-Key: fault-d$i" \
			-d "$(declaration_json "$(person_id "load$i")" 420103)" -w '\n%{http_code}' "$GATEWAY/v1/declarations" 2>/dev/null)
		[ "${out##*$'\n'}" = 201 ] && jq -r '"decl \(.id) \(.person_key)"' <<<"${out%$'\n'*}" >>"$acked"
		[ "${out##*$'\n'}" = 201 ] || echo "refused ${out##*$'\n'}" >>"$acked"
		out=$(curl -sS --max-time 10 -H "Authorization: Bearer $CHECKPOINT" -H 'Content-Type: application/json' \
			-H "Idempotency-Key: fault-v$i" -d @"$HC_TEST_TMP/verify.json" -w '\n%{http_code}' "$GATEWAY/v1/verifications" 2>/dev/null)
		[ "${out##*$'\n'}" = 200 ] && jq -r '"scan \(.scan_id) -"' <<<"${out%$'\n'*}" >>"$acked"
		[ "${out##*$'\n'}" = 200 ] || echo "refused ${out##*$'\n'}" >>"$acked"
		sleep 0.1
	done
) &
load_pid=$!

# Loads the acknowledged effects into a table the checks join against.
load_acked() {
	sql "CREATE TABLE IF NOT EXISTS public.fault_acked (kind text, id text, person_key text); TRUNCATE public.fault_acked" >/dev/null
	awk '$1 == "decl" || $1 == "scan"' "$acked" |
		deploy/local/pg.sh psql "$HC_PG_DATABASE" -q -c "COPY public.fault_acked FROM STDIN WITH (DELIMITER ' ')"
}
# Missing effects and undrained outboxes; 0 when everything acknowledged took effect.
pending() {
	load_acked
	sql "SELECT (SELECT count(*) FROM public.fault_acked a WHERE a.kind = 'decl' AND NOT EXISTS
	        (SELECT 1 FROM codegen.codes c WHERE c.person_key = a.person_key))
	  + (SELECT count(*) FROM public.fault_acked a WHERE a.kind = 'scan' AND NOT EXISTS
	        (SELECT 1 FROM codegen.scans s WHERE s.id::text = a.id))
	  + (SELECT count(*) FROM intake.outbox)
	  + (SELECT count(*) FROM matching.outbox)
	  + (SELECT count(*) FROM codegen.outbox)
	  + (SELECT count(*) FROM certificate.outbox)"
}
# The invariants that must hold once settled; prints what is broken.
violations() {
	sql "SELECT 'declaration without exactly one assessment: ' || a.id FROM public.fault_acked a
	       WHERE a.kind = 'decl' AND (SELECT count(*) FROM matching.assessments m WHERE m.trigger_id = a.id) <> 1
	     UNION ALL SELECT 'declaration not stored: ' || a.id FROM public.fault_acked a
	       WHERE a.kind = 'decl' AND NOT EXISTS (SELECT 1 FROM intake.declarations d WHERE d.id::text = a.id)
	     UNION ALL SELECT 'versions not 1..n for ' || person_key FROM codegen.code_versions
	       GROUP BY person_key HAVING min(version) <> 1 OR max(version) <> count(*)
	     UNION ALL SELECT 'current code not the latest for ' || c.person_key FROM codegen.codes c
	       WHERE c.version <> (SELECT max(version) FROM codegen.code_versions v WHERE v.person_key = c.person_key)
	     UNION ALL SELECT 'version without rule or evidence for ' || person_key FROM codegen.code_versions
	       WHERE rule_id IS NULL OR rule_version IS NULL OR evidence IS NULL OR jsonb_array_length(evidence) = 0
	     UNION ALL SELECT 'one cause applied twice for ' || person_key FROM codegen.code_versions
	       GROUP BY person_key HAVING count(*) <> count(DISTINCT assessment_id || cause)
	     UNION ALL SELECT 'scan recorded twice: ' || s.id FROM codegen.scans s JOIN public.fault_acked a ON a.id = s.id::text
	       GROUP BY s.id HAVING count(*) > 1
	     UNION ALL SELECT 'Idempotency-Key claimed without its answer: ' || r.key FROM intake.request_keys r
	       WHERE r.client = 'fault-partner-$HC_TEST_RUN' AND r.status IS NULL
	     UNION ALL SELECT 'Idempotency-Key claimed without its answer: ' || r.key FROM codegen.request_keys r
	       WHERE r.client = 'fault-checkpoint-$HC_TEST_RUN' AND r.status IS NULL"
}

report=$HC_TEST_TMP/faults.txt
printf '%-34s %6s %6s %8s %s\n' fault acked other recovery checker >"$report"
# after_fault NAME T0: waits until every acknowledged effect is there, then checks.
after_fault() {
	local name=$1 t0=$2 left secs v
	for ((;;)); do
		left=$(pending 2>/dev/null || echo error)
		[ "$left" = 0 ] && break
		if (( $(date +%s) - t0 >= RECOVERY_S )); then
			for s in intake review matching certificate codegen gateway; do
				hc_pid_alive "$HC_TEST_TMP/$s.pid" || echo "$s is not running" >&2
			done
			fail "$name: not settled after ${RECOVERY_S}s ($left pending)"
		fi
		sleep 0.5
	done
	secs=$(( $(date +%s) - t0 ))
	v=$(violations)
	[ -z "$v" ] || { printf '%s\n' "$v" | head -20 >&2; fail "$name: invariants broken"; }
	printf '%-34s %6d %6d %7ds %s\n' "$name" "$(grep -c '^decl\|^scan' "$acked")" "$(grep -c '^refused' "$acked")" \
		"$secs" ok >>"$report"
	note "$name: settled in ${secs}s, invariants hold"
}

sleep 3
rounds=1
[ "${FULL:-0}" = 1 ] && rounds=3
for ((round = 1; round <= rounds; round++)); do
	for s in intake matching codegen certificate review gateway; do
		sleep "0.$((RANDOM % 9 + 1))" # a random moment of the load
		t0=$(date +%s)
		svc_kill9 "$s"
		start_one "$s"
		after_fault "SIGKILL $s (round $round)" "$t0"
	done
done

note "PostgreSQL stopped with -m immediate during writes"
sleep 2
t0=$(date +%s)
runuser -u postgres -- "$HC_PG_BIN/pg_ctl" -D "$HC_PG_DATA" -m immediate -w stop >/dev/null
sleep 2
deploy/local/pg.sh start >/dev/null
after_fault "PostgreSQL immediate stop" "$t0"

note "the Kafka broker killed with SIGKILL"
sleep 2
t0=$(date +%s)
kill -KILL "$(cat "$HC_RUN_DIR/kafka.pid")"
# A JVM killed while its threads write can take seconds to be gone; kafka.sh start would take
# one still exiting for a running broker and start none.
broker_gone() { ! hc_pid_alive "$HC_RUN_DIR/kafka.pid"; }
wait_for "the killed broker to be gone" 60 broker_gone
sleep 2
deploy/local/kafka.sh start >/dev/null || fail "the broker did not restart"
after_fault "Kafka broker SIGKILL" "$t0"

note "matching paused past its session timeout (6 s), then resumed"
t0=$(date +%s)
kill -STOP "$(cat "$HC_TEST_TMP/matching.pid")"
sleep 9
kill -CONT "$(cat "$HC_TEST_TMP/matching.pid")"
after_fault "SIGSTOP matching 9 s" "$t0"

note "a poison record on the declaration topic"
t0=$(date +%s)
printf 'not a cloudevent' | kcat -b "$HC_KAFKA_BROKERS" -P -t "${HC_KAFKA_TOPIC_PREFIX}hc.intake.declaration.v1" -k poison
after_fault "poison record" "$t0"
wait_for "the poison record dead-lettered" 30 bash -c \
	"kcat -b '$HC_KAFKA_BROKERS' -C -t '${HC_KAFKA_TOPIC_PREFIX}hc.intake.declaration.v1.dlq' -o beginning -e -q | grep -q 'not a cloudevent'"

touch "$HC_TEST_TMP/load.stop"
wait "$load_pid" || true
after_fault "load stopped" "$(date +%s)"
decls=$(grep -c '^decl' "$acked")
scans=$(grep -c '^scan' "$acked")
[ "$decls" -ge 100 ] && [ "$scans" -ge 100 ] || fail "too little load: $decls declarations, $scans verifications acknowledged"
# every acknowledged request's key kept with its answer (more when a request took effect but its
# answer was lost on the way back, the gateway killed, say)
kept_d=$(sql "SELECT count(*) FROM intake.request_keys WHERE client = 'fault-partner-$HC_TEST_RUN' AND status = 201")
kept_s=$(sql "SELECT count(*) FROM codegen.request_keys WHERE client = 'fault-checkpoint-$HC_TEST_RUN' AND status = 200")
[ "$kept_d" -ge "$decls" ] && [ "$kept_s" -ge "$scans" ] ||
	fail "keys kept with their answers: $kept_d for $decls declarations, $kept_s for $scans verifications"
cat "$report"
note "$decls declarations and $scans verifications acknowledged; every one took effect exactly once"
