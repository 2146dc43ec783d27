#!/usr/bin/env bash
# A county decides: review records approve/reject with an opinion and
# publishes the decision; intake consumes it and the employer sees the
# status and opinion.  A decision is final (409), bad decisions are refused
# (400/404), and the published record matches its schema.
. "$(dirname "$0")/lib.sh"

TOPIC_DECISIONS=${HC_KAFKA_TOPIC_PREFIX}hc.review.decision.v1
svc_start intake
svc_start review
svc_start gateway
PARTNER=$(gw_client dec-partner partner)
COUNTY=$(gw_client dec-county county 420105)
PROVINCE=$(gw_client dec-prov provincial)

submit() {
	AUTH=$PARTNER http POST "$GATEWAY/v1/employer-applications" "$(application_json "$1" 420105 1 "$2")"
	assert_eq "$STATUS" 201 "submit $1"
	local id
	id=$(jq -r .id <<<"$BODY")
	wait_for "$1 queued" 30 curl -fsS -H "Authorization: Bearer $PROVINCE" "$GATEWAY/v1/queue-items/$id"
	echo "$id"
}
a=$(submit "approve-$HC_TEST_RUN" 81)
r=$(submit "reject-$HC_TEST_RUN" 82)
AUTH=$COUNTY

note "bad decisions are refused and change nothing"
http POST "$GATEWAY/v1/queue-items/$a/decision" '{"decision":"maybe","opinion":"ok","reviewer":"r1"}'
assert_eq "$STATUS" 400 "unknown decision"
assert_eq "$(jq -r .field <<<"$BODY")" decision "field"
http POST "$GATEWAY/v1/queue-items/$a/decision" '{"decision":"approve","reviewer":"r1"}'
assert_eq "$(jq -r .field <<<"$BODY")" opinion "missing opinion"
http POST "$GATEWAY/v1/queue-items/$a/decision" '{"decision":"approve","opinion":"联系人电话13800138000","reviewer":"r1"}'
assert_eq "$(jq -r .field <<<"$BODY")" opinion "a phone in the opinion"
http POST "$GATEWAY/v1/queue-items/00000000-0000-4000-8000-000000000000/decision" '{"decision":"approve","opinion":"同意","reviewer":"r1"}'
assert_eq "$STATUS" 404 "unknown application"
http GET "$GATEWAY/v1/queue-items/$a"
assert_eq "$(jq -r .status <<<"$BODY")" pending "still pending"

note "approve and reject"
http POST "$GATEWAY/v1/queue-items/$a/decision" '{"decision":"approve","opinion":"供水保障企业，同意复工。","reviewer":"hq-07"}'
assert_eq "$STATUS" 200 "approve"
assert_eq "$(jq -r .status <<<"$BODY")" approved "approved"
[ "$(jq -r .decided_at <<<"$BODY")" != null ] || fail "decided_at missing"
http POST "$GATEWAY/v1/queue-items/$r/decision" '{"decision":"reject","opinion":"不属于首批复工范围。","reviewer":"hq-08"}'
assert_eq "$(jq -r .status <<<"$BODY")" rejected "rejected"

note "a decision is final"
http POST "$GATEWAY/v1/queue-items/$a/decision" '{"decision":"reject","opinion":"改变主意","reviewer":"hq-09"}'
assert_eq "$STATUS" 409 "second decision"
assert_eq "$(jq -r .code <<<"$BODY")" conflict "conflict code"
http GET "$GATEWAY/v1/queue-items/$a"
assert_eq "$(jq -r .status <<<"$BODY")" approved "the first decision stands"
assert_eq "$(jq -r .opinion <<<"$BODY")" "供水保障企业，同意复工。" "the first opinion stands"

note "the employer sees the decisions through intake"
wait_for "intake shows approved" 30 bash -c "curl -fsS -H 'Authorization: Bearer $PARTNER' $GATEWAY/v1/employer-applications/$a | jq -e '.status == \"approved\"'"
wait_for "intake shows rejected" 30 bash -c "curl -fsS -H 'Authorization: Bearer $PARTNER' $GATEWAY/v1/employer-applications/$r | jq -e '.status == \"rejected\"'"
http GET "$GATEWAY/v1/employer-applications/$r"
assert_eq "$(jq -r .opinion <<<"$BODY")" "不属于首批复工范围。" "opinion in intake"

note "one decision record per application, valid against its schema"
assert_eq "$(kafka_records "$TOPIC_DECISIONS" | jq -r .key | grep -c -e "$a" -e "$r")" 2 "decision records"
kafka_records "$TOPIC_DECISIONS" | jq -c --arg id "$a" 'select(.key == $id) | .payload | fromjson' | /usr/bin/python3 proto/validate.py record
http GET "$GATEWAY/v1/counties/420105/queue?status=approved&limit=500"
assert_eq "$(jq --arg id "$a" '[.items[] | select(.application_id == $id)] | length' <<<"$BODY")" 1 "filtered by status"
echo passed
