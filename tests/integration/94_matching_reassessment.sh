#!/usr/bin/env bash
# Matching re-assesses on new data, touching only the people it concerns:
#   - a county raised to high risk (a CSV file through `hc-matching import`)
#     turns its residents and its recent travellers yellow within seconds;
#     nobody else is assessed again;
#   - the command reports bad lines by number and field, imports the rest,
#     and importing the same file again inserts nothing; a file of several
#     batches (parallel writers) stores a record repeated in two batches once;
#   - a record from a source no rule reads (commerce) changes no colour;
#   - a fever at a checkpoint turns a green code yellow;
#   - a check-in is assessed; a check-in without a declaration is refused;
#   - a worker still in isolation gets no certificate until it ends; a
#     worker from outside the province gets it from the employer's county.
. "$(dirname "$0")/lib.sh"

start_platform
PARTNER=$(gw_client re-partner partner)
CHECKPOINT=$(gw_client re-checkpoint checkpoint)
HIGH=420117 # raised to high risk below
declare -A key
declare_person() { # declare_person NAME COUNTY [EMPLOYER_APPLICATION]
	AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id "$1")" "$2" "${3:-}")"
	assert_eq "$STATUS" 201 "declaration of $1"
	key[$1]=$(jq -r .person_key <<<"$BODY")
	wait_for "$1 assessed green" 30 code_is "${key[$1]}" '.colour == "green"'
}
assessments() { curl -fsS "$MATCHING/v1/people/${key[$1]}/assessments" | jq length; }
matching_import() {
	HC_DATABASE_URL="$(hc_db_url matching "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		"$HC_BUILD/bin/hc-matching" import "$@"
}
# import_expecting STATUS FILE ERRFILE: imports FILE (its summary in $out), expecting exit STATUS
import_expecting() {
	set +e
	out=$(matching_import "$2" 2>"$3")
	local rc=$?
	set -e
	assert_eq "$rc" "$1" "exit status of importing $(basename "$2")"
}

declare_person traveller 420106
declare_person resident $HIGH
declare_person bystander 420106
three_days_ago=$(date -u -d '3 days ago' +%F)
today=$(date -u +%F)

note "the traveller's carrier record, then the county raised to high risk (CSV)"
csv=$HC_TEST_TMP/risk.csv
{
	echo "source,record_id,kind,resident_id,county_code,date,level"
	echo "travel_records,tr-$HC_TEST_RUN,travel,$(person_id traveller),$HIGH,$three_days_ago,"
	echo "travel_records,tr-bad-$HC_TEST_RUN,travel,420111199001011233,$HIGH,$three_days_ago,"
	echo "risk_areas,risk-$HC_TEST_RUN,risk_level,,$HIGH,$today,high"
} >"$csv"
import_expecting 1 "$csv" "$HC_TEST_TMP/import.err" # a line rejected
grep -q "line 3: record.resident_id" "$HC_TEST_TMP/import.err" || fail "the bad line is not reported: $(cat "$HC_TEST_TMP/import.err")"
grep -q 420111199001011233 "$HC_TEST_TMP/import.err" && fail "the report repeats the ID number"
grep -q "imported 2 records" <<<"$out" || fail "import summary: $out"
wait_for "the traveller yellow" 10 code_is "${key[traveller]}" '.colour == "yellow" and .reason.rule_id == "risk-area"'
wait_for "the resident yellow" 10 code_is "${key[resident]}" '.colour == "yellow" and .reason.rule_id == "risk-area"'
code_is "${key[traveller]}" 'any(.reason.evidence[]; .kind == "high_risk_travel")' || fail "travel evidence"
code_is "${key[resident]}" 'any(.reason.evidence[]; .kind == "high_risk_residence")' || fail "residence evidence"
assert_eq "$(assessments bystander)" 1 "assessments of a bystander"
code_is "${key[bystander]}" '.colour == "green" and .version == 1' || fail "the bystander's code changed"

note "the same file again inserts nothing"
import_expecting 1 "$csv" /dev/null # its bad line again
grep -q "imported 0 records, 0 people re-assessed" <<<"$out" || fail "re-import: $out"

note "a file of several batches (stored by parallel writers): a repeated record stored once, a bad line reported"
bulk=$HC_TEST_TMP/bulk.csv
python3 - "$(person_id bystander)" "$today" "$HC_TEST_RUN" >"$bulk" <<'PY'
import sys
rid, day, run = sys.argv[1:]
print("source,record_id,kind,resident_id,county_code,date,level")
for i in range(2600):
    rec = 5 if i == 2500 else i  # the record of line 7 again, two batches later
    who = "420111199001011233" if i == 1500 else rid
    print("commerce,bulk-%s-%d,purchase,%s,,%s," % (run, rec, who, day))
PY
import_expecting 1 "$bulk" "$HC_TEST_TMP/bulk.err"
grep -q "line 1502: record.resident_id" "$HC_TEST_TMP/bulk.err" || fail "bulk: the bad line is not reported: $(cat "$HC_TEST_TMP/bulk.err")"
grep -q "imported 2598 records, 0 people re-assessed, 0 people queued for re-assessment, 1 lines rejected" <<<"$out" || fail "bulk import: $out"
assert_eq "$(sql "SELECT count(*) FROM matching.records WHERE record_id LIKE 'bulk-$HC_TEST_RUN-%'")" 2598 "bulk records stored"
import_expecting 1 "$bulk" /dev/null # the bad line again
grep -q "imported 0 records" <<<"$out" || fail "bulk re-import: $out"

note "a record no rule may read changes no colour (NDJSON)"
nd=$HC_TEST_TMP/commerce.ndjson
jq -nc --arg r "$(person_id bystander)" --arg d "$today" --arg id "buy-$HC_TEST_RUN" \
	'{source:"commerce", record_id:$id, kind:"purchase", resident_id:$r, date:$d}' >"$nd"
matching_import "$nd" | holds "imported 1 records, 0 people re-assessed" || fail "commerce import"
assert_eq "$(assessments bystander)" 1 "assessments after a commerce record"
assert_eq "$(sql "SELECT count(*) FROM matching.records WHERE source = 'commerce' AND record_id = 'buy-$HC_TEST_RUN'")" 1 "the commerce record stored"
set +e
out=$(sql "INSERT INTO matching.rules (rule_id, version, priority, colour, sources, kinds, window_days, description) VALUES ('shopping', 1, 5, 'red', '{commerce}', '{purchase}', 14, 'x')" 2>&1)
set -e
grep -q "not an allow-listed health source" <<<"$out" || fail "the database took a rule reading commerce: $out"
set +e
out=$(sql "INSERT INTO codegen.code_versions (person_key, version, colour, pass, rule_id, rule_version, evidence, decided_by, assessment_id, cause) VALUES ('${key[bystander]}', 9, 'red', false, 'manual', 1, '[]', 'an operator', gen_random_uuid(), 'x')" 2>&1)
set -e
grep -q "violates check constraint" <<<"$out" || fail "the database took a code version without evidence: $out"

note "a fever at a checkpoint: refused, then yellow"
AUTH=$CHECKPOINT http POST "$GATEWAY/v1/scans" "{\"checkpoint_id\":\"gate-7\",\"person_key\":\"${key[bystander]}\",\"temperature\":38.2}"
assert_eq "$(jq -r '.result + " " + .reason' <<<"$BODY")" "refused fever" "fever scan"
wait_for "the feverish person yellow" 10 code_is "${key[bystander]}" '.colour == "yellow" and .reason.rule_id == "self-declared" and any(.reason.evidence[]; .source == "checkpoint")'

note "check-ins"
AUTH=$PARTNER http POST "$GATEWAY/v1/check-ins" "{\"resident_id\":\"$(person_id traveller)\",\"health\":{\"temperature\":36.4,\"symptoms\":[],\"contact_with_cases\":false,\"risk_area_travel_14d\":false}}"
assert_eq "$STATUS" 201 "check-in"
checkin=$(jq -r .id <<<"$BODY")
wait_for "the check-in assessed" 10 bash -c "curl -fsS $MATCHING/v1/people/${key[traveller]}/assessments | jq -e '.[0].trigger.id == \"$checkin\"'"
code_is "${key[traveller]}" '.colour == "yellow"' || fail "a normal check-in does not end a travel risk"
AUTH=$PARTNER http POST "$GATEWAY/v1/check-ins" "{\"resident_id\":\"$(person_id nobody)\",\"health\":{\"temperature\":36.4,\"symptoms\":[],\"contact_with_cases\":false,\"risk_area_travel_14d\":false}}"
assert_eq "$STATUS" 409 "a check-in without a declaration"
assert_eq "$(jq -r .field <<<"$BODY")" resident_id "field"

note "isolation not over: no certificate until it ends"
COUNTY=$(gw_client re-county county 420106)
AUTH=$PARTNER http POST "$GATEWAY/v1/employer-applications" \
	"$(jq -c --arg r "$(person_id isolated)" '.workers = [{name:"张三丰", resident_id:$r, phone:"13912345678"}]' <<<"$(application_json "iso-$HC_TEST_RUN" 420106 1 3)")"
app=$(jq -r .id <<<"$BODY")
jq -nc --arg r "$(person_id isolated)" --arg d "$three_days_ago" --arg u "$(date -u -d '5 days' +%F)" --arg id "iso-$HC_TEST_RUN" \
	'{records:[{source:"isolation_registry", record_id:$id, kind:"isolation", resident_id:$r, date:$d, until:$u}]}' >"$HC_TEST_TMP/iso.json"
http POST "$MATCHING/v1/reference-records" "$(cat "$HC_TEST_TMP/iso.json")"
assert_eq "$STATUS" 200 "isolation record"
wait_for "queued" 30 curl -fsS "$REVIEW/v1/queue-items/$app"
AUTH=$COUNTY http POST "$GATEWAY/v1/queue-items/$app/decision" '{"decision":"approve","opinion":"同意","reviewer":"r"}'
wait_for "intake knows the approval" 30 bash -c "curl -fsS $INTAKE/v1/employer-applications/$app | jq -e '.status == \"approved\"'"
declare_person isolated 420106 "$app"
code_is "${key[isolated]}" '.pass == false' || fail "a pass during isolation"
sleep 2
assert_eq "$(curl -fsS "$CERTIFICATE/v1/people/${key[isolated]}/certificates" | jq length)" 0 "certificates during isolation"
assert_eq "$(curl -fsS "$MATCHING/v1/people/${key[isolated]}/assessments" | jq -r '.[0].isolation_until')" "$(date -u -d '5 days' +%F)" "isolation in the assessment"
note "a worker from outside the province: the certificate comes from the employer's county"
AUTH=$PARTNER http POST "$GATEWAY/v1/employer-applications" \
	"$(jq -c --arg r "$(person_id outsider)" '.workers = [{name:"张三丰", resident_id:$r, phone:"13912345678"}]' <<<"$(application_json "out-$HC_TEST_RUN" 420106 1 4)")"
app2=$(jq -r .id <<<"$BODY")
wait_for "queued" 30 curl -fsS "$REVIEW/v1/queue-items/$app2"
AUTH=$COUNTY http POST "$GATEWAY/v1/queue-items/$app2/decision" '{"decision":"approve","opinion":"同意","reviewer":"r"}'
wait_for "intake knows the approval" 30 bash -c "curl -fsS $INTAKE/v1/employer-applications/$app2 | jq -e '.status == \"approved\"'"
declare_person outsider 110105 "$app2"
wait_for "a pass" 30 code_is "${key[outsider]}" '.pass'
assert_eq "$(curl -fsS "$CERTIFICATE/v1/people/${key[outsider]}/certificates" | jq -r '.[0].county_code')" 420106 "issuing county"
echo passed
