#!/usr/bin/env bash
# The return-to-work story, end to end, through the public API (gateway) and
# observed on Kafka, with all six services running:
#   an employer applies; the county approves; the worker applies and is
#   pending; matching finds nothing; the certificate is issued; the code is a
#   green return-to-work pass; a checkpoint scan passes; a close-contact
#   record for the worker is imported; the code turns yellow, the
#   certificate and a vehicle pass the worker rides in are revoked; the next
#   scan is refused; the worker files a correction; county and city approve
#   it (two reviewers); the code is green again, and its history shows every
#   reason.  Then every record of the story validates against its schema.
. "$(dirname "$0")/lib.sh"

COUNTY_CODE=420111
start_platform
PARTNER=$(gw_client story-partner partner)
PROVINCE=$(gw_client story-province provincial)
COUNTY=$(gw_client story-county county $COUNTY_CODE)
CITY=$(gw_client story-city county 420100)
CHECKPOINT=$(gw_client story-checkpoint checkpoint)
worker=$(person_id worker)
rider=$(person_id rider)
today=$(date -u +%F)

note "an employer applies; the county approves"
AUTH=$PARTNER http POST "$GATEWAY/v1/employer-applications" \
	"$(jq -c --arg r "$worker" '.workers = [{name:"张三丰", resident_id:$r, phone:"13912345678"}]' <<<"$(application_json "story-$HC_TEST_RUN" $COUNTY_CODE 1 7)")"
assert_eq "$STATUS" 201 "employer application"
app=$(jq -r .id <<<"$BODY")
wait_for "the application in the county queue" 30 curl -fsS "$REVIEW/v1/queue-items/$app"
AUTH=$COUNTY http POST "$GATEWAY/v1/queue-items/$app/decision" '{"decision":"approve","opinion":"同意复工","reviewer":"县审核员"}'
assert_eq "$STATUS" 200 "approval"
wait_for "intake knows the approval" 30 bash -c "curl -fsS $INTAKE/v1/employer-applications/$app | jq -e '.status == \"approved\"'"

note "the worker applies: pending; matching finds nothing; certificate; green pass"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$worker" $COUNTY_CODE "$app")"
assert_eq "$STATUS" 201 "declaration"
assert_eq "$(jq -r .status <<<"$BODY")" pending "declaration status"
key=$(jq -r .person_key <<<"$BODY")
wait_for "a green return-to-work pass" 30 code_is "$key" '.colour == "green" and .pass'
AUTH=$PARTNER http GET "$GATEWAY/v1/codes/$key"
assert_eq "$STATUS" 200 "code through the gateway"
assert_eq "$(jq -r .reason.rule_id <<<"$BODY")" no-risk "the reason for green"
AUTH=$PROVINCE http GET "$GATEWAY/v1/people/$key/assessments"
assert_eq "$(jq -r '.[0].colour + " " + .[0].rule_id + " " + .[0].trigger.kind' <<<"$BODY")" "green no-risk declaration" "assessment"
AUTH=$PARTNER http GET "$GATEWAY/v1/people/$key/certificates"
assert_eq "$(jq -r '[.[] | select(.status == "valid")] | length' <<<"$BODY")" 1 "valid certificates"
assert_eq "$(jq -r '.[0].county_code' <<<"$BODY")" $COUNTY_CODE "issued by the county of residence"

note "a second rider, and a vehicle pass for both"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$rider" 420102)"
rider_key=$(jq -r .person_key <<<"$BODY")
wait_for "the rider green" 30 code_is "$rider_key" '.colour == "green"'
pass_body=$(jq -nc --arg d "$worker" --arg p "$rider" --arg t "$today" \
	'{plate:"鄂A5D3F7", from_county:"420111", to_county:"420102", travel_date:$t, driver:{resident_id:$d}, passengers:[{resident_id:$p}]}')
AUTH=$PARTNER http POST "$GATEWAY/v1/vehicle-passes" "$pass_body"
assert_eq "$STATUS" 201 "vehicle pass"
vpass=$(jq -r .pass_id <<<"$BODY")

note "a checkpoint scan passes"
AUTH=$CHECKPOINT http POST "$GATEWAY/v1/scans" "{\"checkpoint_id\":\"bridge-3\",\"person_key\":\"$key\",\"temperature\":36.6}"
assert_eq "$STATUS" 201 "scan"
assert_eq "$(jq -r .result <<<"$BODY")" passed "scan result"

note "a close-contact record is imported: yellow, certificate and pass revoked"
AUTH=$PROVINCE http POST "$GATEWAY/v1/reference-records" \
	"$(jq -nc --arg r "$worker" --arg d "$today" --arg id "ct-$HC_TEST_RUN" '{records:[{source:"contact_tracing", record_id:$id, kind:"close_contact", resident_id:$r, date:$d}]}')"
assert_eq "$STATUS" 200 "import"
assert_eq "$(jq -c . <<<"$BODY")" '{"inserted":1,"duplicates":0,"reassessed":1,"queued":0}' "import result"
wait_for "the code yellow" 30 code_is "$key" '.colour == "yellow" and (.pass | not) and .reason.rule_id == "close-contact"'
wait_for "the certificate revoked" 30 bash -c "curl -fsS $CERTIFICATE/v1/people/$key/certificates | jq -e 'all(.status == \"revoked\")'"
wait_for "the vehicle pass revoked" 30 bash -c "curl -fsS $CERTIFICATE/v1/vehicle-passes/$vpass | jq -e '.status == \"revoked\"'"
AUTH=$CHECKPOINT http POST "$GATEWAY/v1/scans" "{\"checkpoint_id\":\"bridge-3\",\"person_key\":\"$key\",\"temperature\":36.6}"
assert_eq "$(jq -r '.result + " " + .reason' <<<"$BODY")" "refused colour_yellow" "the next scan"

note "a correction: the county, then the city (another reviewer) approve"
AUTH=$PARTNER http POST "$GATEWAY/v1/corrections" "{\"resident_id\":\"$worker\",\"reason\":\"那天我在家隔离，没有接触\"}"
assert_eq "$STATUS" 201 "correction filed"
corr=$(jq -r .id <<<"$BODY")
wait_for "the correction in the county's list" 30 curl -fsS "$REVIEW/v1/correction-reviews/$corr"
AUTH=$CITY http POST "$GATEWAY/v1/correction-reviews/$corr/city-decision" '{"decision":"approve","opinion":"同意","reviewer":"市审核员"}'
assert_eq "$STATUS" 409 "the city before the county"
AUTH=$COUNTY http POST "$GATEWAY/v1/correction-reviews/$corr/county-decision" '{"decision":"approve","opinion":"核实无接触","reviewer":"县审核员"}'
assert_eq "$(jq -r .status <<<"$BODY")" pending_city "after the county"
AUTH=$CITY http POST "$GATEWAY/v1/correction-reviews/$corr/city-decision" '{"decision":"approve","opinion":"同意","reviewer":"县审核员"}'
assert_eq "$STATUS" 409 "the county's reviewer again"
AUTH=$CITY http POST "$GATEWAY/v1/correction-reviews/$corr/city-decision" '{"decision":"approve","opinion":"同意更正","reviewer":"市审核员"}'
assert_eq "$(jq -r .status <<<"$BODY")" approved "after the city"
wait_for "the holder sees the correction approved" 30 bash -c "curl -fsS $INTAKE/v1/corrections/$corr | jq -e '.status == \"approved\"'"
wait_for "green again, a pass again" 30 code_is "$key" '.colour == "green" and .pass and .reason.decided_by == "correction:县审核员,市审核员"'

note "the history shows every reason"
AUTH=$PARTNER http GET "$GATEWAY/v1/codes/$key/history"
assert_eq "$STATUS" 200 "history"
history=$BODY
assert_eq "$(jq -r '[.[].version] | reverse | . == [range(1; length + 1)]' <<<"$BODY")" true "versions 1..n"
for want in 'green/true/no-risk/rules' 'yellow/false/close-contact/rules' 'green/true/no-risk/correction:县审核员,市审核员'; do
	jq -e --arg w "$want" 'any(.[]; "\(.colour)/\(.pass)/\(.rule_id)/\(.decided_by)" == $w)' <<<"$BODY" >/dev/null || fail "history lacks $want: $BODY"
done
jq -e 'all(.[]; (.evidence | length) > 0 and (.rule_version >= 1))' <<<"$BODY" >/dev/null || fail "a version without rule or evidence"
jq -e 'any(.[]; .evidence[] | .source == "contact_tracing")' <<<"$BODY" >/dev/null || fail "the close contact is not in the evidence"

note "object-level scope: another partner sees nothing of this person; a county its own certificates"
OTHER=$(gw_client story-other partner)
OTHER_COUNTY=$(gw_client story-other-county county 420102)
for path in "codes/$key" "codes/$key/history" "codes/$key/token" "codes/$key/qr.png" "people/$key/certificates"; do
	AUTH=$OTHER http GET "$GATEWAY/v1/$path"
	assert_eq "$STATUS" 404 "another partner: $path"
	AUTH=$PARTNER curl -fsS -o /dev/null -H "Authorization: Bearer $PARTNER" "$GATEWAY/v1/$path" ||
		fail "the partner it came through: $path"
done
AUTH=$COUNTY http GET "$GATEWAY/v1/people/$key/certificates"
assert_eq "$(jq length <<<"$BODY")" 2 "certificates of the issuing county"
AUTH=$OTHER_COUNTY http GET "$GATEWAY/v1/people/$key/certificates"
assert_eq "$(jq length <<<"$BODY")" 0 "certificates for another county"

note "on Kafka: code versions once each, in order; every record valid"
versions=$(records_of hc.codegen.code.v1 "$key" | jq -s -c '[.[].data.version]')
assert_eq "$(jq -c '. == [range(1; length + 1)]' <<<"$versions")" true "code.changed versions $versions"
assert_eq "$(records_of hc.codegen.code.v1 "$key" | jq -s 'length')" "$(jq length <<<"$history")" "one event per version"
assert_eq "$(records_of hc.review.decision.v1 "$key" | jq -s -c '[.[].data | .stage + ":" + .status]')" '["county:county_approved","city:approved"]' "correction decisions"
assert_eq "$(records_of hc.certificate.certificate.v1 "$key" | jq -s -c '[.[].type | split(".")[3]]')" '["issued","revoked","issued"]' "certificate events"
assert_eq "$(records_of hc.certificate.vehicle-pass.v1 "$vpass" | jq -s -c '[.[].type | split(".")[3]]')" '["issued","revoked"]' "vehicle pass events"
assert_eq "$(records_of hc.codegen.scan.v1 "$key" | jq -s -c '[.[].data.result]')" '["passed","refused"]' "scan events"
ours=$(jq -nc --arg a "$key" --arg b "$rider_key" --arg c "$app" --arg d "$vpass" '[$a, $b, $c, $d]')
for t in $(grep -v '^#' deploy/topics.txt | awk '{print $1}'); do
	kafka_records "${HC_KAFKA_TOPIC_PREFIX}$t" | jq -c --argjson ours "$ours" 'select(.key as $k | $ours | index($k)) | .payload | fromjson'
done >"$HC_TEST_TMP/story-records.ndjson"
/usr/bin/python3 proto/validate.py records <"$HC_TEST_TMP/story-records.ndjson" || fail "records that do not match their schema"
echo passed
