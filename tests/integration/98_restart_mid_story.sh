#!/usr/bin/env bash
# The story with a service killed (SIGKILL) and restarted at each step:
# review after the application, matching after the declaration,
# certificate and codegen after the close-contact import, intake and the
# gateway during the correction.  The story still completes, and nothing
# happened twice: one assessment per trigger, code versions 1..n once each
# (also on Kafka, counting each event id once), one valid certificate.
. "$(dirname "$0")/lib.sh"

COUNTY_CODE=420115
start_platform
PARTNER=$(gw_client rs-partner partner)
PROVINCE=$(gw_client rs-province provincial)
COUNTY=$(gw_client rs-county county $COUNTY_CODE)
CITY=$(gw_client rs-city county 420100)
worker=$(person_id worker)
restart() { local s; for s in "$@"; do svc_kill9 "$s"; svc_start "$s"; done; }

AUTH=$PARTNER http POST "$GATEWAY/v1/employer-applications" \
	"$(jq -c --arg r "$worker" '.workers = [{name:"张三丰", resident_id:$r, phone:"13912345678"}]' <<<"$(application_json "restart-$HC_TEST_RUN" $COUNTY_CODE 1 9)")"
assert_eq "$STATUS" 201 "employer application"
app=$(jq -r .id <<<"$BODY")
restart review
wait_for "queued" 30 curl -fsS "$REVIEW/v1/queue-items/$app"
AUTH=$COUNTY http POST "$GATEWAY/v1/queue-items/$app/decision" '{"decision":"approve","opinion":"同意","reviewer":"甲"}'
assert_eq "$STATUS" 200 "approval"
wait_for "approved in intake" 30 bash -c "curl -fsS $INTAKE/v1/employer-applications/$app | jq -e '.status == \"approved\"'"

AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$worker" $COUNTY_CODE "$app")"
assert_eq "$STATUS" 201 "declaration"
key=$(jq -r .person_key <<<"$BODY")
decl=$(jq -r .id <<<"$BODY")
restart matching
wait_for "a green pass" 60 code_is "$key" '.colour == "green" and .pass'

AUTH=$PROVINCE http POST "$GATEWAY/v1/reference-records" \
	"$(jq -nc --arg r "$worker" --arg d "$(date -u +%F)" --arg id "ct-rs-$HC_TEST_RUN" '{records:[{source:"contact_tracing", record_id:$id, kind:"close_contact", resident_id:$r, date:$d}]}')"
assert_eq "$STATUS" 200 "import"
restart certificate codegen
wait_for "yellow" 60 code_is "$key" '.colour == "yellow" and (.pass | not)'
wait_for "the certificate revoked" 30 bash -c "curl -fsS $CERTIFICATE/v1/people/$key/certificates | jq -e 'all(.status == \"revoked\")'"

AUTH=$PARTNER http POST "$GATEWAY/v1/corrections" "{\"resident_id\":\"$worker\",\"reason\":\"没有接触\"}"
assert_eq "$STATUS" 201 "correction"
corr=$(jq -r .id <<<"$BODY")
restart intake
wait_for "in review" 30 curl -fsS "$REVIEW/v1/correction-reviews/$corr"
AUTH=$COUNTY http POST "$GATEWAY/v1/correction-reviews/$corr/county-decision" '{"decision":"approve","opinion":"属实","reviewer":"甲"}'
assert_eq "$STATUS" 200 "county decision"
svc_stop gateway
svc_start gateway
AUTH=$CITY http POST "$GATEWAY/v1/correction-reviews/$corr/city-decision" '{"decision":"approve","opinion":"同意","reviewer":"乙"}'
assert_eq "$STATUS" 200 "city decision"
restart matching
wait_for "green again, a pass again" 60 code_is "$key" '.colour == "green" and .pass and .reason.decided_by == "correction:甲,乙"'
wait_for "the holder sees it approved" 30 bash -c "curl -fsS $INTAKE/v1/corrections/$corr | jq -e '.status == \"approved\"'"

note "nothing happened twice"
history=$(curl -fsS "$CODEGEN/v1/codes/$key/history")
assert_eq "$(jq -c '[.[].version] | reverse | . == [range(1; length + 1)]' <<<"$history")" true "versions 1..n: $(jq -c '[.[].version]' <<<"$history")"
assert_eq "$(sql "SELECT count(*) FROM matching.assessments WHERE trigger_id = '$decl'")" 1 "assessments of the declaration"
assert_eq "$(sql "SELECT count(*) FROM matching.assessments WHERE trigger_id = '$corr'")" 1 "assessments of the correction"
assert_eq "$(sql "SELECT count(*) FROM certificate.certificates WHERE person_key = '$key' AND status = 'valid'")" 1 "valid certificates"
assert_eq "$(sql "SELECT count(*) FROM certificate.certificates WHERE person_key = '$key'")" 2 "certificates issued in all"
assert_eq "$(sql "SELECT count(*) - count(DISTINCT assessment_id || cause) FROM codegen.code_versions WHERE person_key = '$key'")" 0 "a cause applied twice"
events=$(records_of hc.codegen.code.v1 "$key" | jq -s -c 'reduce .[] as $e ({seen: {}, out: []}; if .seen[$e.id] then . else .seen[$e.id] = true | .out += [$e.data.version] end) | .out')
assert_eq "$(jq -c '. == [range(1; length + 1)]' <<<"$events")" true "code.changed versions on Kafka $events"
assert_eq "$(jq length <<<"$events")" "$(jq length <<<"$history")" "one event per version"
echo passed
