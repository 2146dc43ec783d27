#!/usr/bin/env bash
# A worker applies for a health code: pending, with personal data and health
# answers sealed in intake and none of them in the event.  Only a worker
# listed in an approved employer application may apply through it; a
# rejected or undecided employer's worker is refused with 409, an unlisted
# person with 400.
. "$(dirname "$0")/lib.sh"

TOPIC_DECL=${HC_KAFKA_TOPIC_PREFIX}hc.intake.declaration.v1
svc_start intake
svc_start review
svc_start gateway
PARTNER=$(gw_client decl-partner partner)
OTHER=$(gw_client decl-other partner)
COUNTY=$(gw_client decl-county county 420111)

id_no=$(resident_id 42011119900101123)
worker=$(printf '{"name":"王小明","resident_id":"%s","phone":"13712345678"}' "$id_no")
employer() { # employer NAME -> application id, queued
	AUTH=$PARTNER http POST "$GATEWAY/v1/employer-applications" \
		"$(jq -c --argjson w "$worker" --arg n "$1" '.employer_name = $n | .workers = [$w]' <<<"$(application_json x 420111 1 5)")"
	assert_eq "$STATUS" 201 "employer $1"
	local id
	id=$(jq -r .id <<<"$BODY")
	wait_for "$1 queued" 30 curl -fsS "$REVIEW/v1/queue-items/$id"
	echo "$id"
}
approved=$(employer "approved-$HC_TEST_RUN")
rejected=$(employer "rejected-$HC_TEST_RUN")
undecided=$(employer "undecided-$HC_TEST_RUN")
AUTH=$COUNTY http POST "$GATEWAY/v1/queue-items/$approved/decision" '{"decision":"approve","opinion":"同意复工","reviewer":"r"}'
AUTH=$COUNTY http POST "$GATEWAY/v1/queue-items/$rejected/decision" '{"decision":"reject","opinion":"不予复工","reviewer":"r"}'
wait_for "intake knows the decisions" 30 bash -c "curl -fsS $INTAKE/v1/employer-applications/$rejected | jq -e '.status == \"rejected\"'"
wait_for "intake knows the approval" 30 bash -c "curl -fsS $INTAKE/v1/employer-applications/$approved | jq -e '.status == \"approved\"'"

declaration() { # declaration EMPLOYER_ID [RESIDENT_ID] [HEALTH]
	jq -nc --arg e "$1" --arg r "${2:-$id_no}" --argjson h "${3:-{\"temperature\":36.5,\"symptoms\":[],\"contact_with_cases\":false,\"risk_area_travel_14d\":false\}}" \
		'{name:"王小明", resident_id:$r, phone:"13712345678", county_code:"420111", health:$h}
		 + (if $e == "" then {} else {employer_application_id:$e} end)'
}

note "the worker of an approved employer applies: pending"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "$approved" "$id_no" '{"temperature":37.6,"symptoms":["cough","fever"],"contact_with_cases":true,"risk_area_travel_14d":false}')"
assert_eq "$STATUS" 201 "declaration"
decl=$(jq -r .id <<<"$BODY")
assert_eq "$(jq -r .status <<<"$BODY")" pending "status"
key=$(jq -r .person_key <<<"$BODY")
AUTH=$PARTNER http GET "$GATEWAY/v1/declarations/$decl"
assert_eq "$(jq -r .masked_name <<<"$BODY")" "王**" "masked name"
assert_eq "$(jq -r .employer_application_id <<<"$BODY")" "$approved" "employer"
AUTH=$OTHER http GET "$GATEWAY/v1/declarations/$decl"
assert_eq "$STATUS" 404 "another partner"
AUTH=$COUNTY http GET "$GATEWAY/v1/declarations/$decl"
assert_eq "$STATUS" 200 "the county of residence"

note "the event: person key, masked name, county; nothing personal"
wait_for "the event" 30 bash -c "kcat -b $HC_KAFKA_BROKERS -C -t '$TOPIC_DECL' -o beginning -e -q | grep -q '$decl'"
rec=$(kafka_records "$TOPIC_DECL" | jq -c --arg k "$key" 'select(.key == $k)' | grep "$decl")
for needle in "$id_no" 13712345678 王小明 37.6 cough contact_with_cases; do
	grep -qF "$needle" <<<"$rec" && fail "the event carries '$needle'"
done
assert_eq "$(jq -c '.payload | fromjson | .data.declared' <<<"$rec")" '["fever","symptom","contact"]' "only the derived flags"
jq -c '.payload | fromjson' <<<"$rec" | /usr/bin/python3 proto/validate.py record
for needle in "$id_no" 13712345678 王小明 cough; do
	[ "$(sql "SELECT count(*) FROM intake.declarations WHERE id = '$decl' AND (name_sealed || resident_id_sealed || phone_sealed || health_sealed) LIKE '%$needle%'")" = 0 ] ||
		fail "'$needle' stored unsealed"
done

note "refusals"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "$rejected")"
assert_eq "$STATUS" 409 "a rejected employer's worker"
grep -q rejected <<<"$(jq -r .detail <<<"$BODY")" || fail "the refusal does not say why: $BODY"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "$undecided")"
assert_eq "$STATUS" 409 "an undecided employer's worker"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "$approved" "$(resident_id 42011119920202456)")"
assert_eq "$STATUS" 400 "a person the employer did not list"
assert_eq "$(jq -r .field <<<"$BODY")" employer_application_id "field"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "$(cat /proc/sys/kernel/random/uuid)")"
assert_eq "$(jq -r .field <<<"$BODY")" employer_application_id "unknown employer application"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "" "$id_no" '{"temperature":51,"symptoms":[],"contact_with_cases":false,"risk_area_travel_14d":false}')"
assert_eq "$(jq -r .field <<<"$BODY")" health.temperature "impossible temperature"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "" "$id_no" '{"temperature":36.5,"symptoms":["fever","fever"],"contact_with_cases":false,"risk_area_travel_14d":false}')"
assert_eq "$(jq -r .field <<<"$BODY")" "health.symptoms[1]" "a symptom twice"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "" "$id_no" '{"temperature":36.5,"symptoms":["hiccups"],"contact_with_cases":false,"risk_area_travel_14d":false}')"
assert_eq "$(jq -r .field <<<"$BODY")" "health.symptoms[0]" "an unknown symptom"
AUTH=$COUNTY http POST "$GATEWAY/v1/declarations" "$(declaration "")"
assert_eq "$STATUS" 403 "a county system does not declare for people"
assert_eq "$(sql "SELECT count(*) FROM intake.declarations WHERE person_key = '$key'")" 1 "declarations stored"

note "without an employer: a worker may apply directly"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration "")"
assert_eq "$STATUS" 201 "direct declaration"

note "many at once, straight to intake: each 201 after its commit, each stored and published once"
metric_value() { curl -fsS "$INTAKE/metrics" | sed -n "s/^$1 //p"; }
batches0=$(metric_value hc_declaration_batches_total)
committed0=$(metric_value hc_declarations_committed_total)
N=40
: >"$HC_TEST_TMP/many.cfg"
for i in $(seq 1 $N); do
	declaration_json "$(person_id "many-$i")" 420111 >"$HC_TEST_TMP/many-$i.json"
	post_entry "$HC_TEST_TMP/many.cfg" "$INTAKE/v1/declarations" "$HC_TEST_TMP/many-$i.json" "$HC_TEST_TMP/many-$i.out"
done
curl -sS --parallel --parallel-max 40 -K "$HC_TEST_TMP/many.cfg" >"$HC_TEST_TMP/many.codes"
assert_eq "$(tr ' ' '\n' <"$HC_TEST_TMP/many.codes" | grep -c '^201$')" $N "declarations accepted"
jq -r .person_key "$HC_TEST_TMP"/many-*.out | sort -u >"$HC_TEST_TMP/many.keys"
assert_eq "$(wc -l <"$HC_TEST_TMP/many.keys")" $N "distinct people answered"
keys_sql=$(sed "s/.*/'&'/" "$HC_TEST_TMP/many.keys" | paste -sd,)
assert_eq "$(sql "SELECT count(*) FROM intake.declarations WHERE person_key IN ($keys_sql)")" $N "declarations stored"
# every answer carries its own row's id and time
for f in "$HC_TEST_TMP"/many-*.out; do
	assert_eq "$(sql "SELECT to_char(submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM intake.declarations WHERE id = '$(jq -r .id "$f")'")" \
		"$(jq -r .submitted_at "$f")" "submitted_at of $(jq -r .id "$f")"
done
published() { [ "$(kafka_records "$TOPIC_DECL" | jq -r '.payload | fromjson | .data.person_key' | grep -cFf "$HC_TEST_TMP/many.keys")" -ge $N ]; }
wait_for "their events" 30 published
sleep 1 # a second copy would show by now
# only these people's events: earlier tests' faults (kill -9 between commit and publish) may
# legitimately leave a second copy of their own events in the shared topic
kafka_records "$TOPIC_DECL" | jq -r '.payload | try (fromjson | [.data.person_key, .id] | @tsv) catch empty' |
	grep -Ff "$HC_TEST_TMP/many.keys" | cut -f2 >"$HC_TEST_TMP/many.events"
assert_eq "$(sort -u "$HC_TEST_TMP/many.events" | wc -l)" $N "events of these declarations"
assert_eq "$(sort "$HC_TEST_TMP/many.events" | uniq -d | wc -l)" 0 "events published twice"
assert_eq "$(( $(metric_value hc_declarations_committed_total) - committed0 ))" $N "declarations group-committed"
batches=$(( $(metric_value hc_declaration_batches_total) - batches0 ))
[ "$batches" -ge 1 ] && [ "$batches" -le $N ] || fail "$batches batches for $N declarations"
note "$N declarations in $batches group commits"

note "a row the database refuses in a group commit fails its own request only"
for i in $(seq 0 10); do
	county=420111
	[ "$i" = 5 ] && county=420102 # refused by the constraint below
	declaration_json "$(person_id "mixed-$i")" $county >"$HC_TEST_TMP/mixed-$i.json"
done
post_with_refusal intake.declarations "county_code <> '420102'" "$INTAKE/v1/declarations" "" \
	"$INTAKE/metrics" hc_declarations_waiting
grep -q 'writing each alone' "$HC_TEST_TMP/intake.log" || fail "the refused row was never in a batch with others"
assert_eq "$(jq -r .status "$HC_TEST_TMP/mixed-5.out")" 500 "the refused declaration"
assert_eq "$(tr ' ' '\n' <"$HC_TEST_TMP/mixed.codes" | grep -c '^201$')" 9 "the declarations batched with it"
keys_sql=$(jq -r 'select(.person_key) | .person_key' "$HC_TEST_TMP"/mixed-*.out | sed "s/.*/'&'/" | paste -sd,)
assert_eq "$(sql "SELECT count(*) FROM intake.declarations WHERE person_key IN ($keys_sql)")" 9 "the others stored"
echo passed
