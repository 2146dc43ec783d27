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
echo passed
