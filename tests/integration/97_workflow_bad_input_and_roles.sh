#!/usr/bin/env bash
# Bad input on every workflow endpoint, through the gateway: the right 4xx
# problem+json naming the field or the reason, nothing stored and nothing
# published; every role refused on the routes it may not call; and the
# story's refusals (unknown county, category outside the scope, a rider
# who is not green).
. "$(dirname "$0")/lib.sh"

start_platform HC_HTTP_MAX_BODY=262144
PARTNER=$(gw_client bad-partner partner)
PROVINCE=$(gw_client bad-province provincial)
COUNTY=$(gw_client bad-county county 420111)
OTHER_COUNTY=$(gw_client bad-other county 420102)
CITY=$(gw_client bad-city county 420100)
CHECKPOINT=$(gw_client bad-checkpoint checkpoint)
ANALYST=$(gw_client bad-analyst analyst)

note "a green person and a filed correction to aim at"
person=$(person_id green)
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$person" 420111)"
key=$(jq -r .person_key <<<"$BODY")
wait_for "green" 30 code_is "$key" '.colour == "green"'
AUTH=$PARTNER http POST "$GATEWAY/v1/corrections" "{\"resident_id\":\"$person\",\"reason\":\"颜色不对\"}"
assert_eq "$STATUS" 201 "correction"
corr=$(jq -r .id <<<"$BODY")
wait_for "the correction in review" 30 curl -fsS "$REVIEW/v1/correction-reviews/$corr"
sleep 1 # let every relay settle before counting

state() {
	sql "SELECT (SELECT count(*) FROM intake.checkins) || '/' || (SELECT count(*) FROM intake.corrections)
	  || '/' || (SELECT count(*) FROM intake.employer_applications)
	  || '/' || (SELECT count(*) FROM review.corrections WHERE status <> 'pending_county')
	  || '/' || (SELECT count(*) FROM matching.records) || '/' || (SELECT count(*) FROM certificate.vehicle_passes)
	  || '/' || (SELECT count(*) FROM codegen.scans)
	  || '/' || (SELECT last_value || '.' || is_called FROM intake.outbox_id_seq) || '/' || (SELECT last_value || '.' || is_called FROM review.outbox_id_seq)
	  || '/' || (SELECT last_value || '.' || is_called FROM matching.outbox_id_seq) || '/' || (SELECT last_value || '.' || is_called FROM certificate.outbox_id_seq)
	  || '/' || (SELECT last_value || '.' || is_called FROM codegen.outbox_id_seq)"
}
before=$(state)

# expect KEY METHOD PATH STATUS CODE FIELD [BODY]
expect() {
	local key=$1 method=$2 path=$3 status=$4 code=$5 field=$6 b=${7:-}
	if [ $# -ge 7 ]; then AUTH=$key http "$method" "$GATEWAY$path" "$b"; else AUTH=$key http "$method" "$GATEWAY$path"; fi
	assert_eq "$STATUS" "$status" "$method $path status (${b:0:60})"
	assert_eq "$(jq -r .code <<<"$BODY")" "$code" "$method $path problem code (${b:0:60})"
	assert_eq "$(jq -r '.field // ""' <<<"$BODY")" "$field" "$method $path field (${b:0:60})"
	[ -n "$(jq -r .detail <<<"$BODY")" ] || fail "no detail: $BODY"
}
health='{"temperature":36.5,"symptoms":[],"contact_with_cases":false,"risk_area_travel_14d":false}'
bad_id="${person:0:17}$([ "${person:17:1}" = 1 ] && echo 2 || echo 1)"

note "check-ins"
expect "$PARTNER" POST /v1/check-ins 400 malformed-json "" '{"resident_id":'
expect "$PARTNER" POST /v1/check-ins 400 validation-failed health "{\"resident_id\":\"$person\"}"
expect "$PARTNER" POST /v1/check-ins 400 validation-failed resident_id "{\"resident_id\":\"$bad_id\",\"health\":$health}"
expect "$PARTNER" POST /v1/check-ins 400 validation-failed health.temperature "{\"resident_id\":\"$person\",\"health\":$(jq -c '.temperature = "hot"' <<<"$health")}"
expect "$PARTNER" POST /v1/check-ins 400 validation-failed health.symptoms "{\"resident_id\":\"$person\",\"health\":$(jq -c '.symptoms = "cough"' <<<"$health")}"
expect "$PARTNER" POST /v1/check-ins 400 validation-failed mood "{\"resident_id\":\"$person\",\"health\":$health,\"mood\":\"ok\"}"

note "corrections"
expect "$PARTNER" POST /v1/corrections 400 validation-failed reason "{\"resident_id\":\"$person\"}"
expect "$PARTNER" POST /v1/corrections 400 validation-failed reason "{\"resident_id\":\"$person\",\"reason\":\"请打 13912345678\"}"
expect "$PARTNER" POST /v1/corrections 400 validation-failed reason "{\"resident_id\":\"$person\",\"reason\":\"$(head -c 1001 /dev/zero | tr '\0' x)\"}"
expect "$PARTNER" POST /v1/corrections 409 conflict resident_id "{\"resident_id\":\"$(person_id stranger)\",\"reason\":\"颜色不对\"}"
expect "$PARTNER" GET /v1/corrections/not-a-uuid 400 invalid-parameter id

note "correction reviews"
expect "$COUNTY" POST /v1/correction-reviews/x/county-decision 400 invalid-parameter id '{}'
expect "$COUNTY" POST "/v1/correction-reviews/$(cat /proc/sys/kernel/random/uuid)/county-decision" 404 not-found "" '{"decision":"approve","opinion":"同意","reviewer":"r"}'
expect "$COUNTY" POST "/v1/correction-reviews/$corr/county-decision" 400 validation-failed decision '{"decision":"maybe","opinion":"同意","reviewer":"r"}'
expect "$COUNTY" POST "/v1/correction-reviews/$corr/county-decision" 400 validation-failed opinion '{"decision":"approve","reviewer":"r"}'
expect "$OTHER_COUNTY" POST "/v1/correction-reviews/$corr/county-decision" 404 not-found "" '{"decision":"approve","opinion":"同意","reviewer":"r"}'
expect "$CITY" POST "/v1/correction-reviews/$corr/county-decision" 403 forbidden "" '{"decision":"approve","opinion":"同意","reviewer":"r"}'
expect "$COUNTY" POST "/v1/correction-reviews/$corr/city-decision" 403 forbidden "" '{"decision":"approve","opinion":"同意","reviewer":"r"}'
expect "$CITY" POST "/v1/correction-reviews/$corr/city-decision" 409 conflict "" '{"decision":"approve","opinion":"同意","reviewer":"r"}'
expect "$OTHER_COUNTY" GET /v1/counties/420111/correction-reviews 403 forbidden county
expect "$COUNTY" GET "/v1/counties/420111/correction-reviews?status=open" 400 invalid-parameter status

note "reference records: a batch is taken whole or not at all"
rec() { jq -nc --arg r "$person" --arg id "$1" '{source:"contact_tracing", record_id:$id, kind:"close_contact", resident_id:$r, date:"2026-02-10"}'; }
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed records '{}'
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed records '{"records":[]}'
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed records "{\"records\":[$(for i in $(seq 1001); do printf '{},'; done){}]}"
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed "records[1].date" "{\"records\":[$(rec a1),$(rec a2 | jq -c 'del(.date)')]}"
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed "records[0].source" "{\"records\":[$(rec a1 | jq -c '.source = "gossip"')]}"
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed "records[0].kind" "{\"records\":[$(rec a1 | jq -c '.kind = "confirmed"')]}"
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed "records[2].resident_id" "{\"records\":[$(rec a1),$(rec a2),$(rec a3 | jq -c --arg b "$bad_id" '.resident_id = $b')]}"
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed "records[0].record_id" "{\"records\":[$(rec "$person")]}"
expect "$PROVINCE" POST /v1/reference-records 400 validation-failed "records[0].county_code" "{\"records\":[{\"source\":\"risk_areas\",\"record_id\":\"r\",\"kind\":\"risk_level\",\"county_code\":\"429999\",\"level\":\"high\",\"date\":\"2026-02-10\"}]}"
expect "$PROVINCE" POST /v1/reference-records 413 body-too-large "" "{\"records\":[{\"record_id\":\"$(head -c 300000 /dev/zero | tr '\0' x)\"}]}"

note "vehicle passes"
vp() { jq -nc --arg d "$person" --arg p "$1" '{plate:"鄂A5D3F7", from_county:"420111", to_county:"420102", travel_date:"2026-03-01", driver:{resident_id:$d}, passengers:[{resident_id:$p}]}'; }
expect "$PARTNER" POST /v1/vehicle-passes 400 validation-failed plate "$(vp "$(person_id p2)" | jq -c '.plate = "ABC"')"
expect "$PARTNER" POST /v1/vehicle-passes 400 validation-failed from_county "$(vp "$(person_id p2)" | jq -c '.from_county = "429999"')"
expect "$PARTNER" POST /v1/vehicle-passes 400 validation-failed driver "$(vp "$(person_id p2)" | jq -c 'del(.driver)')"
expect "$PARTNER" POST /v1/vehicle-passes 400 validation-failed passengers "$(vp "$(person_id p2)" | jq -c '.passengers = []')"
expect "$PARTNER" POST /v1/vehicle-passes 400 validation-failed travel_date "$(vp "$(person_id p2)" | jq -c '.travel_date = "tomorrow"')"
expect "$PARTNER" POST /v1/vehicle-passes 400 validation-failed "passengers[0].resident_id" "$(vp "$person")"
expect "$PARTNER" POST /v1/vehicle-passes 409 conflict "passengers[0].resident_id" "$(vp "$(person_id never-declared)")"

note "scans and codes"
expect "$CHECKPOINT" POST /v1/scans 400 validation-failed person_key '{"checkpoint_id":"c","temperature":36.5}'
expect "$CHECKPOINT" POST /v1/scans 400 validation-failed person_key '{"checkpoint_id":"c","person_key":"ABC","temperature":36.5}'
expect "$CHECKPOINT" POST /v1/scans 400 validation-failed temperature "{\"checkpoint_id\":\"c\",\"person_key\":\"$key\",\"temperature\":50}"
expect "$CHECKPOINT" POST /v1/scans 400 validation-failed checkpoint_id "{\"checkpoint_id\":\"13912345678\",\"person_key\":\"$key\",\"temperature\":36.5}"
expect "$PARTNER" GET /v1/codes/XYZ 400 invalid-parameter person_key
expect "$PARTNER" GET "/v1/codes/$(printf 'a%.0s' $(seq 64))" 404 not-found person_key

note "the story's refusals: unknown county, category outside the scope"
expect "$PARTNER" POST /v1/employer-applications 400 validation-failed county_code "$(application_json 未知县的公司 429999 1 3)"
expect "$PARTNER" POST /v1/employer-applications 400 validation-failed category "$(application_json 娱乐公司 420111 1 3 | jq -c '.category = "entertainment"')"

assert_eq "$(state)" "$before" "rows and outbox after bad input"

note "roles: each route only for its roles"
forbid() { expect "$1" "$2" "$3" 403 forbidden "" "${@:4}"; }
forbid "$CHECKPOINT" POST /v1/declarations "$(declaration_json "$person" 420111)"
forbid "$CHECKPOINT" POST /v1/check-ins '{}'
forbid "$COUNTY" POST /v1/corrections '{}'
forbid "$PARTNER" POST /v1/scans '{}'
forbid "$PARTNER" POST /v1/reference-records '{}'
forbid "$ANALYST" POST /v1/reference-records '{}'
forbid "$COUNTY" POST /v1/reference-records '{}'
forbid "$COUNTY" GET "/v1/codes/$key"
forbid "$CHECKPOINT" GET "/v1/codes/$key/history"
forbid "$CHECKPOINT" GET "/v1/people/$key/assessments"
forbid "$PARTNER" GET "/v1/people/$key/assessments"
forbid "$ANALYST" POST /v1/vehicle-passes '{}'
forbid "$PARTNER" POST "/v1/correction-reviews/$corr/county-decision" '{}'
forbid "$PARTNER" GET /v1/counties/420111/correction-reviews
AUTH=$ANALYST http GET "$GATEWAY/v1/rules"
assert_eq "$STATUS" 200 "an analyst reads the rules"
# the five rules the schema comes with (test 68 publishes others in the same database)
assert_eq "$(jq -r '["close-contact", "confirmed-case", "no-risk", "risk-area", "self-declared"] - map(.rule_id) | join(",")' <<<"$BODY")" "" "the default rules missing"
AUTH=$ANALYST http GET "$GATEWAY/v1/people/$key/assessments"
assert_eq "$STATUS" 200 "an analyst reads assessments"
assert_eq "$(state)" "$before" "rows and outbox after refused calls"
echo passed
