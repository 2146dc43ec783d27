#!/usr/bin/env bash
# A county's queue pages in submission order with a cursor (no item twice,
# none skipped), and an application past its review deadline is listed as
# overdue.  Events are produced directly (kcat) with chosen submission times,
# as intake would publish them.
. "$(dirname "$0")/lib.sh"

svc_start review HC_REVIEW_DEADLINE_HOURS=24
county=421281 # 赤壁市: no other test uses it

produce() { # produce APPLICATION_ID SUBMITTED_AT
	jq -nc --arg id "$1" --arg at "$2" --arg c "$county" --arg run "$HC_TEST_RUN" '{specversion:"1.0",
		id:("page-" + $run + "-" + $id), source:"/hc/intake", type:"hc.intake.employer-application.submitted.v1",
		data:{application_id:$id, employer_name:("分页" + $run), credit_code:"91420100MA4K3W5T0H", county_code:$c,
		category:"daily_necessities", submitted_at:$at, worker_count:1,
		workers:[{person_key:("b" * 64), masked_name:"赵*"}]}}' |
		kcat -b "$HC_KAFKA_BROKERS" -P -t "$TOPIC_APPLICATIONS" -k "$1"
}

note "seven applications: one submitted two days ago, six today"
ids=()
old=$(cat /proc/sys/kernel/random/uuid)
produce "$old" "$(date -u -d '2 days ago' +%Y-%m-%dT%H:%M:%S.000000Z)"
for i in 1 2 3 4 5 6; do
	id=$(cat /proc/sys/kernel/random/uuid)
	ids+=("$id")
	produce "$id" "$(date -u -d "-$((60 - i)) minutes" +%Y-%m-%dT%H:%M:%S.000000Z)"
done
wait_for "seven queued" 30 bash -c "[ \$(curl -fsS '$REVIEW/v1/counties/$county/queue?limit=500' | jq '.items | length') = 7 ]"

note "pages of three, in submission order"
seen=()
after=""
pages=0
while :; do
	http GET "$REVIEW/v1/counties/$county/queue?limit=3${after:+&after=$after}"
	assert_eq "$STATUS" 200 "page $pages"
	mapfile -t page < <(jq -r '.items[].application_id' <<<"$BODY")
	seen+=("${page[@]}")
	pages=$((pages + 1))
	after=$(jq -r '.next // empty' <<<"$BODY")
	[ -n "$after" ] || break
	[ "$pages" -lt 10 ] || fail "pagination does not end"
done
assert_eq "$pages" 3 "pages"
assert_eq "${seen[*]}" "$old ${ids[*]}" "every item once, oldest first"

note "the old one is overdue, the others are not"
http GET "$REVIEW/v1/counties/$county/queue?overdue=true"
assert_eq "$(jq -r '[.items[].application_id] | join(" ")' <<<"$BODY")" "$old" "overdue items"
http GET "$REVIEW/v1/queue-items/$old"
assert_eq "$(jq -r .overdue <<<"$BODY")" true "overdue flag"
[[ "$(jq -r .due_at <<<"$BODY")" < "$(date -u +%Y-%m-%dT%H:%M:%S)" ]] || fail "due_at is not in the past"
http GET "$REVIEW/v1/queue-items/${ids[0]}"
assert_eq "$(jq -r .overdue <<<"$BODY")" false "a fresh item"

note "bad cursors and filters are refused"
http GET "$REVIEW/v1/counties/$county/queue?after=nope"
assert_eq "$(jq -r .field <<<"$BODY")" after "bad cursor"
http GET "$REVIEW/v1/counties/$county/queue?overdue=maybe"
assert_eq "$(jq -r .field <<<"$BODY")" overdue "bad overdue"
http GET "$REVIEW/v1/counties/$county/queue?status=lost"
assert_eq "$(jq -r .field <<<"$BODY")" status "bad status"
http GET "$REVIEW/v1/counties/999999/queue"
assert_eq "$STATUS" 404 "unknown county"
echo passed
