#!/usr/bin/env bash
# The event log for analysts and county systems, with all seven services running:
#   - hc-replay of a time window returns exactly the records produced in it
#     (checked against kcat reading every topic), each once, in offset order
#     per partition; filters by type, county and key; CSV; a replay group
#     resumes where it stopped; the live services see nothing of a replay;
#   - as-of answers for 100 people at 10 moments each, from the log
#     (hc-replay as-of) and from the analytics service through the gateway,
#     agree with codegen's code history;
#   - every projection rebuilt from the log equals the live tables; emptied
#     or corrupted, --rebuild restores exactly the rows it had;
#   - the analytics figures (JSON and CSV) count what happened, for the
#     analyst role only;
#   - the example county consumer follows one county only and resumes.
. "$(dirname "$0")/lib.sh"

X=420202 # a county (of this test only) that goes high risk and back
Y=420203
start_platform
PARTNER=$(gw_client rp-partner partner)
PROVINCE=$(gw_client rp-province provincial)
ANALYST=$(gw_client rp-analyst analyst)
COUNTY_X=$(gw_client rp-county county $X)
CHECKPOINT=$(gw_client rp-checkpoint checkpoint)
replay() { HC_KAFKA_BROKERS=$HC_KAFKA_BROKERS "$HC_BUILD/bin/hc-replay" "$@"; }
now_ms() { date +%s%3N; }
declare -a keys=()
declare_people() { # declare_people FROM TO COUNTY: people FROM..TO, their keys into keys[]
	local i
	for ((i = $1; i <= $2; i++)); do
		AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id "p$i")" "$3")"
		assert_eq "$STATUS" 201 "declaration of p$i"
		keys[i]=$(jq -r .person_key <<<"$BODY")
	done
}
versions_total() { sql "SELECT count(*) FROM codegen.code_versions WHERE person_key = ANY('{$(
	IFS=,
	echo "${keys[*]}"
)}')"; }
matching_import() {
	HC_DATABASE_URL="$(hc_db_url matching "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		"$HC_BUILD/bin/hc-matching" import "$@" >/dev/null
}
quiet() { # quiet: waits until no outbox holds an unpublished row and consumers caught up
	local s
	for s in intake review matching certificate codegen; do
		wait_for "$s outbox drained" 60 bash -c "[ \"\$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c 'SELECT count(*) FROM $s.outbox')\" = 0 ]"
	done
	sleep 2
}

note "an employer application approved, one rejected; 100 people declare (60 in $X, 40 in $Y)"
for n in 1 2; do
	AUTH=$PARTNER http POST "$GATEWAY/v1/employer-applications" \
		"$(jq -c --arg r "$(person_id "p$n")" '.workers = [{name:"张三丰", resident_id:$r, phone:"13912345678"}]' <<<"$(application_json "rp-$n-$HC_TEST_RUN" $X 1 $n)")"
	assert_eq "$STATUS" 201 "employer application $n"
	apps[n]=$(jq -r .id <<<"$BODY")
	wait_for "application $n queued" 30 curl -fsS "$REVIEW/v1/queue-items/${apps[n]}"
done
AUTH=$COUNTY_X http POST "$GATEWAY/v1/queue-items/${apps[1]}/decision" '{"decision":"approve","opinion":"同意复工","reviewer":"县审核员"}'
assert_eq "$STATUS" 200 "approval"
AUTH=$COUNTY_X http POST "$GATEWAY/v1/queue-items/${apps[2]}/decision" '{"decision":"reject","opinion":"材料不全","reviewer":"县审核员"}'
assert_eq "$STATUS" 200 "rejection"
wait_for "intake knows the approval" 30 bash -c "curl -fsS $INTAKE/v1/employer-applications/${apps[1]} | jq -e '.status == \"approved\"'"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id p1)" $X "${apps[1]}")"
assert_eq "$STATUS" 201 "the worker's declaration for the application"
keys[1]=$(jq -r .person_key <<<"$BODY")
declare_people 2 60 $X
declare_people 61 100 $Y
wait_for "100 green codes" 60 bash -c "[ \$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM codegen.codes WHERE person_key = ANY('{$(
	IFS=,
	echo "${keys[*]:1}"
)}')\") = 100 ]"
wait_for "a certificate for p1" 30 bash -c "curl -fsS $CERTIFICATE/v1/people/${keys[1]}/certificates | jq -e 'length == 1'"

note "a window: $X goes high risk, ten fever scans in $Y, then $X back to low"
quiet
T1=$(now_ms)
sleep 0.2
before=$(versions_total)
today=$(date -u +%F)
printf 'source,record_id,kind,resident_id,county_code,date,level\nrisk_areas,rh-%s,risk_level,,%s,%s,high\n' "$HC_TEST_RUN" $X "$today" >"$HC_TEST_TMP/high.csv"
matching_import "$HC_TEST_TMP/high.csv"
for ((i = 61; i <= 70; i++)); do
	AUTH=$CHECKPOINT http POST "$GATEWAY/v1/scans" "{\"checkpoint_id\":\"gate-$i\",\"person_key\":\"${keys[i]}\",\"temperature\":38.4}"
	assert_eq "$STATUS" 201 "fever scan $i"
done
wait_for "70 more versions" 60 bash -c "[ \$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM codegen.code_versions WHERE person_key = ANY('{$(
	IFS=,
	echo "${keys[*]:1}"
)}')\") -ge $((before + 70)) ]"
AUTH=$PARTNER http POST "$GATEWAY/v1/corrections" "{\"resident_id\":\"$(person_id p2)\",\"reason\":\"我没有去过高风险地区\"}"
assert_eq "$STATUS" 201 "correction filed"
corr=$(jq -r .id <<<"$BODY")
wait_for "the correction queued" 30 curl -fsS "$REVIEW/v1/correction-reviews/$corr"
AUTH=$COUNTY_X http POST "$GATEWAY/v1/correction-reviews/$corr/county-decision" '{"decision":"reject","opinion":"风险区居民","reviewer":"县审核员"}'
assert_eq "$STATUS" 200 "correction rejected by the county"
quiet
T2=$(now_ms)
sleep 0.2
printf 'source,record_id,kind,resident_id,county_code,date,level\nrisk_areas,rl-%s,risk_level,,%s,%s,low\n' "$HC_TEST_RUN" $X "$today" >"$HC_TEST_TMP/low.csv"
matching_import "$HC_TEST_TMP/low.csv"
wait_for "$X green again" 60 bash -c "[ \$(deploy/local/pg.sh psql $HC_PG_DATABASE -tA -c \"SELECT count(*) FROM codegen.codes c JOIN codegen.code_versions v USING (person_key, version) WHERE c.county_code = '$X' AND v.colour = 'green' AND c.person_key = ANY('{$(
	IFS=,
	echo "${keys[*]:1:60}"
)}')\") = 60 ]"
quiet

note "replay of the window [T1, T2) equals kcat's view of every topic"
topics=$(awk '!/^#/ && NF {print $1}' deploy/topics.txt)
: >"$HC_TEST_TMP/truth.txt"
for t in $topics; do
	kcat -b "$HC_KAFKA_BROKERS" -C -t "$HC_KAFKA_TOPIC_PREFIX$t" -o beginning -e -q -f "$t %p %o %T\n" |
		awk -v a="$T1" -v b="$T2" '$4 >= a && $4 < b {print $1, $2, $3}' >>"$HC_TEST_TMP/truth.txt"
done
sort "$HC_TEST_TMP/truth.txt" >"$HC_TEST_TMP/truth.sorted"
[ "$(wc -l <"$HC_TEST_TMP/truth.sorted")" -ge 150 ] || fail "the window holds too few records: $(wc -l <"$HC_TEST_TMP/truth.sorted")"
snapshot() {
	local s
	for s in intake review matching certificate codegen analytics gateway; do
		sql "SELECT '$s', (SELECT count(*) FROM $s.processed_events), (SELECT count(*) FROM $s.outbox)"
	done
	sql "SELECT count(*) FROM gateway.webhook_deliveries"
	for t in $topics; do kcat -b "$HC_KAFKA_BROKERS" -C -t "$HC_KAFKA_TOPIC_PREFIX$t" -o beginning -e -q -f '.\n' | wc -l; done
}
snapshot >"$HC_TEST_TMP/before.txt"
replay --from "@$T1" --to "@$T2" --quiet >"$HC_TEST_TMP/window.ndjson"
jq -r '"\(.topic) \(.partition) \(.offset)"' "$HC_TEST_TMP/window.ndjson" >"$HC_TEST_TMP/window.txt"
sort "$HC_TEST_TMP/window.txt" >"$HC_TEST_TMP/window.sorted"
diff "$HC_TEST_TMP/truth.sorted" "$HC_TEST_TMP/window.sorted" >&2 || fail "the replayed window differs from the log"
assert_eq "$(uniq -d "$HC_TEST_TMP/window.sorted" | wc -l)" 0 "duplicates in the replay"
awk '{k = $1 " " $2; if ((k in last) && $3 <= last[k]) bad++; last[k] = $3} END {exit bad > 0}' "$HC_TEST_TMP/window.txt" ||
	fail "records out of offset order within a partition"
jq -e 'select(.event.type == null)' "$HC_TEST_TMP/window.ndjson" >/dev/null && fail "a record without its CloudEvent"
note "$(wc -l <"$HC_TEST_TMP/window.txt") records in the window, as on the log"

note "filters, CSV, keys"
replay --from "@$T1" --to "@$T2" --quiet --type hc.codegen.scan.recorded.v1 >"$HC_TEST_TMP/scans.ndjson"
assert_eq "$(jq -s 'length' "$HC_TEST_TMP/scans.ndjson")" 10 "scans in the window"
replay --quiet --county $Y --topic hc.codegen.code.v1 >"$HC_TEST_TMP/y.ndjson"
assert_eq "$(jq -s "all(.event.data.county_code == \"$Y\")" "$HC_TEST_TMP/y.ndjson")" true "county filter"
assert_eq "$(jq -s 'length' "$HC_TEST_TMP/y.ndjson")" "$(sql "SELECT count(*) FROM codegen.code_versions v JOIN codegen.codes c USING (person_key) WHERE c.county_code = '$Y'")" "county $Y's code versions"
replay --quiet --key "${keys[1]}" >"$HC_TEST_TMP/p1.ndjson"
assert_eq "$(jq -s "all(.key == \"${keys[1]}\")" "$HC_TEST_TMP/p1.ndjson")" true "key filter"
assert_eq "$(jq -s '[.[] | select(.topic == "hc.codegen.code.v1")] | length' "$HC_TEST_TMP/p1.ndjson")" "$(sql "SELECT count(*) FROM codegen.code_versions WHERE person_key = '${keys[1]}'")" "p1's code versions"
replay --from "@$T1" --to "@$T2" --quiet --format csv >"$HC_TEST_TMP/window.csv"
assert_eq "$(head -1 "$HC_TEST_TMP/window.csv")" "topic,partition,offset,timestamp,key,id,type,county,event" "CSV header"
assert_eq "$(($(python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1]))))' "$HC_TEST_TMP/window.csv") - 1))" "$(wc -l <"$HC_TEST_TMP/window.txt")" "CSV records"

note "a replay group resumes; explicit offsets start where told"
g=rp-group-$HC_TEST_RUN
replay --quiet --group "$g" --topic hc.intake.declaration.v1 >"$HC_TEST_TMP/g1.ndjson"
replay --quiet --group "$g" --topic hc.intake.declaration.v1 >"$HC_TEST_TMP/g2.ndjson"
assert_eq "$(wc -l <"$HC_TEST_TMP/g2.ndjson")" 0 "a second run of the group reads nothing old"
declare_people 101 102 $Y
replay --quiet --group "$g" --topic hc.intake.declaration.v1 >"$HC_TEST_TMP/g3.ndjson"
assert_eq "$(jq -r .key "$HC_TEST_TMP/g3.ndjson" | sort | xargs)" "$(printf '%s\n' "${keys[101]}" "${keys[102]}" | sort | xargs)" "the third run reads only the new declarations"
first=$(head -1 "$HC_TEST_TMP/g1.ndjson" | jq -r '"\(.partition) \(.offset)"')
replay --quiet --topic hc.intake.declaration.v1 --offset "hc.intake.declaration.v1:${first% *}:$((${first#* } + 1))" |
	jq -r 'select(.partition == '"${first% *}"') | .offset' | sed -n 1p | holds -x "$((${first#* } + 1))" || fail "--offset"
quiet
snapshot >"$HC_TEST_TMP/after.txt"
# the two declarations above were the platform's own work; the replay's share must be none:
# compare a fresh snapshot after one more replay
replay --quiet >/dev/null
snapshot >"$HC_TEST_TMP/after-replay.txt"
diff "$HC_TEST_TMP/after.txt" "$HC_TEST_TMP/after-replay.txt" >&2 || fail "a replay changed a service's state or a topic"

note "as-of: 100 people x 10 moments, from the log and from analytics, against codegen's history"
keylist=$(
	IFS=,
	echo "${keys[*]:1:100}"
)
sql "WITH p AS (SELECT person_key, min(created_at) f, max(created_at) l FROM codegen.code_versions
	          WHERE person_key = ANY('{$keylist}') GROUP BY person_key),
	     m AS (SELECT p.person_key, x.at, x.o FROM p, LATERAL (
	             (SELECT p.f - interval '5 seconds' AS at, 0 AS o)
	             UNION ALL (SELECT v.created_at, 1 FROM codegen.code_versions v WHERE v.person_key = p.person_key)
	             UNION ALL (SELECT v.created_at - interval '1 microsecond', 2 FROM codegen.code_versions v WHERE v.person_key = p.person_key AND v.version > 1)
	             UNION ALL (SELECT p.f + (p.l - p.f + interval '3 seconds') * random(), 3 FROM generate_series(1, 10))
	             ORDER BY 2, 1 LIMIT 10) x)
	SELECT m.person_key || ' ' || to_char(m.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM m" >"$HC_TEST_TMP/queries.txt"
assert_eq "$(wc -l <"$HC_TEST_TMP/queries.txt")" 1000 "queries"
while read -r k at; do printf '%s\t%s\n' "$k" "$at"; done <"$HC_TEST_TMP/queries.txt" >"$HC_TEST_TMP/queries.tsv"
sql "CREATE TABLE IF NOT EXISTS public.rp_queries_$HC_TEST_RUN (person_key text, at text, n serial)"
# through psql's own stdin: the postgres user need not reach this run's directory
deploy/local/pg.sh psql "$HC_PG_DATABASE" -c "\\copy public.rp_queries_$HC_TEST_RUN (person_key, at) FROM pstdin" \
	<"$HC_TEST_TMP/queries.tsv" >/dev/null
norm='{person_key, at, colour, version, rule_id, rule_version, evidence, decided_by, cause}'
sql "SELECT json_build_object('person_key', q.person_key, 'at', q.at, 'colour', v.colour, 'version', v.version,
	        'rule_id', v.rule_id, 'rule_version', v.rule_version, 'evidence', v.evidence, 'decided_by', v.decided_by, 'cause', v.cause)
	 FROM public.rp_queries_$HC_TEST_RUN q LEFT JOIN LATERAL (SELECT * FROM codegen.code_versions v
	   WHERE v.person_key = q.person_key AND v.created_at <= q.at::timestamptz ORDER BY v.created_at DESC, v.version DESC LIMIT 1) v ON true
	 ORDER BY q.n" | jq -cS "$norm" >"$HC_TEST_TMP/asof.truth"
sql "DROP TABLE public.rp_queries_$HC_TEST_RUN"
assert_eq "$(jq -s '[.[] | .colour] | unique | sort' -c "$HC_TEST_TMP/asof.truth")" '[null,"green","yellow"]' "the moments cover no code, green and yellow"
replay as-of --batch "$HC_TEST_TMP/queries.txt" | jq -cS "$norm" >"$HC_TEST_TMP/asof.log"
diff "$HC_TEST_TMP/asof.truth" "$HC_TEST_TMP/asof.log" >&2 || fail "hc-replay as-of disagrees with codegen's history"
replay as-of --key "${keys[61]}" --at "$(date -u +%FT%TZ)" | jq -e '.colour == "yellow" and .rule_id == "self-declared"' >/dev/null ||
	fail "a single as-of: $(replay as-of --key "${keys[61]}" --at "$(date -u +%FT%TZ)")"
while read -r k at; do
	printf 'url = "%s/v1/analytics/people/%s/as-of?at=%s"\n' "$GATEWAY" "$k" "$at"
done <"$HC_TEST_TMP/queries.txt" >"$HC_TEST_TMP/asof.curl"
curl -sS -H "Authorization: Bearer $ANALYST" -K "$HC_TEST_TMP/asof.curl" | jq -cS "$norm" >"$HC_TEST_TMP/asof.api"
diff "$HC_TEST_TMP/asof.truth" "$HC_TEST_TMP/asof.api" >&2 || fail "the analytics as-of route disagrees with codegen's history"
AUTH=$ANALYST http GET "$GATEWAY/v1/analytics/people/${keys[1]}/as-of?at=yesterday"
assert_eq "$STATUS" 400 "a bad time"
AUTH=$PARTNER http GET "$GATEWAY/v1/analytics/people/${keys[1]}/as-of?at=$(date -u +%FT%TZ)"
assert_eq "$STATUS" 403 "a partner app asks an analyst's question"

note "every projection rebuilt from the log equals the live tables"
project() { # project SERVICE NAME MODE
	HC_DATABASE_URL="$(hc_db_url "$1" "$HC_PG_DATABASE")" replay project "$2" "$3"
}
dump() { sql "SELECT md5(string_agg(row_to_json(t)::text, '|' ORDER BY row_to_json(t)::text)) || ' ' || count(*) FROM $1 t"; }
for p in review:review.queue:review.queue_items:review.corrections codegen:codegen.certificates:codegen.certificates \
	analytics:analytics.facts:analytics.facts analytics:analytics.codes:analytics.code_history:analytics.current_codes; do
	IFS=: read -r svc name t1 t2 <<<"$p"
	out=$(project "$svc" "$name" --check) || fail "$name --check: $out"
	grep -q " 0 differing" <<<"$out" || fail "$name: $out"
	grep -qE "live [1-9][0-9]* rows" <<<"$out" || fail "$name is empty: $out"
	note "$(head -1 <<<"$out")"
	want1=$(dump "$t1")
	want2=${t2:+$(dump "$t2")}
	sql "DELETE FROM $t1" >/dev/null
	[ -z "$t2" ] || sql "DELETE FROM $t2 WHERE ctid IN (SELECT ctid FROM $t2 LIMIT 3)" >/dev/null
	project "$svc" "$name" --check >/dev/null && fail "$name: --check missed a damaged table"
	out=$(project "$svc" "$name" --rebuild) || fail "$name --rebuild: $out"
	assert_eq "$(dump "$t1")" "$want1" "$t1 after the rebuild"
	[ -z "$t2" ] || assert_eq "$(dump "$t2")" "$want2" "$t2 after the rebuild"
done
assert_eq "$(sql "SELECT status FROM review.queue_items WHERE application_id = '${apps[2]}'")" rejected "the rejection survives the rebuild"

note "the analytics figures"
today_sh=$(TZ=Asia/Shanghai date +%F)
AUTH=$ANALYST http GET "$GATEWAY/v1/analytics/daily?county=$X&from=$today_sh&to=$today_sh"
assert_eq "$STATUS" 200 "daily figures"
daily=$BODY
sum() { jq "[.rows[] | .$1] | add" <<<"$daily"; }
assert_eq "$(sum declarations)" "$(sql "SELECT count(*) FROM intake.declarations WHERE county_code = '$X'")" "declarations in $X"
assert_eq "$(sum codes_issued)" "$(sql "SELECT count(*) FROM codegen.code_versions v JOIN codegen.codes c USING (person_key) WHERE c.county_code = '$X' AND v.version = 1")" "codes issued in $X"
assert_eq "$(jq '[.rows[] | select(.colour == "yellow") | .colour_changes] | add' <<<"$daily")" 60 "turned yellow in $X"
assert_eq "$(jq '[.rows[] | select(.colour == "green") | .colour_changes] | add' <<<"$daily")" 60 "turned green again in $X"
assert_eq "$(sum reviews_decided)" 2 "reviews decided in $X"
assert_eq "$(sum certificates_issued)" 2 "certificates in $X (p1's, revoked when yellow, issued again when green)"
assert_eq "$(sum certificates_revoked)" 1 "certificates revoked in $X"
AUTH=$ANALYST http GET "$GATEWAY/v1/analytics/daily?county=$Y&from=$today_sh&to=$today_sh"
assert_eq "$(jq '[.rows[] | .scans] | add' <<<"$BODY")" 10 "scans in $Y"
assert_eq "$(jq '[.rows[] | select(.colour == "green") | .scans_refused] | add' <<<"$BODY")" 10 "fever refusals of green codes in $Y"
AUTH=$ANALYST http GET "$GATEWAY/v1/analytics/daily?county=$X&from=$today_sh&to=$today_sh&format=csv"
assert_eq "$STATUS" 200 "CSV"
assert_eq "$(head -1 <<<"$BODY" | cut -d, -f1-4)" "county_code,day,colour,declarations" "CSV header"
assert_eq "$(awk -F, 'NR > 1 {s += $4} END {print s}' <<<"$BODY")" "$(sum declarations)" "CSV declarations"
AUTH=$ANALYST http GET "$GATEWAY/v1/analytics/daily?from=2026-01-01&to=2027-06-01"
assert_eq "$STATUS" 400 "a range over 366 days"
AUTH=$PARTNER http GET "$GATEWAY/v1/analytics/daily"
assert_eq "$STATUS" 403 "a partner app"

note "the county feed follows one county and resumes"
feed() { "$HC_BUILD/tests/county_feed" --brokers "$HC_KAFKA_BROKERS" --prefix "$HC_KAFKA_TOPIC_PREFIX" --county $X --group "feed-$HC_TEST_RUN" --idle-exit 4 2>/dev/null; }
feed >"$HC_TEST_TMP/feed1.ndjson"
want=0
for t in hc.intake.employer-application.v1 hc.intake.correction.v1 hc.review.decision.v1 hc.certificate.certificate.v1; do
	want=$((want + $(kafka_records "$HC_KAFKA_TOPIC_PREFIX$t" | jq -c --arg c $X '.headers as $h | select([range(0; $h | length; 2) | select($h[.] == "county" and $h[. + 1] == $c)] | length > 0)' | wc -l)))
done
assert_eq "$(wc -l <"$HC_TEST_TMP/feed1.ndjson")" "$want" "records of county $X"
assert_eq "$(jq -s "all(.event.data.county_code == \"$X\")" "$HC_TEST_TMP/feed1.ndjson")" true "only county $X"
feed >"$HC_TEST_TMP/feed2.ndjson"
assert_eq "$(wc -l <"$HC_TEST_TMP/feed2.ndjson")" 0 "the feed resumes after what it printed"
echo passed
