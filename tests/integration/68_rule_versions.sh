#!/usr/bin/env bash
# Colour rules are versioned data the province publishes through the API
# (POST /v1/rules, provincial role only):
#   - refusals, each naming its field: a source that is not an allow-listed
#     health source, a yellow rule without kinds, a start in the past or not
#     a time; a county system may read the rules but not publish;
#   - a new rule (version 1) applies to the next assessment: a person's
#     close-contact record of ten days ago, past the close-contact rule's
#     seven days, is matched by it;
#   - a new version starting now ends the previous one then and, once in
#     force, re-assesses the people the rule decided without anything else
#     happening to them (trigger "rule", "<rule_id>:2"): the person falls
#     back to the default rule and gets a new code version; a version
#     starting later leaves the current one in force until then (and is not
#     applied before), and no version may start before the latest; a
#     person whose record of the rule's kind is past every version's window
#     is not re-assessed for them;
#   - the list shows every version with who published it and when, and so
#     does one rule's (404 for a rule that does not exist);
#   - every version is announced once on hc.matching.rule.v1 (its schema's
#     event), in order, the five that came with the schema too.
# The rule this test publishes is green, comes after every other rule, and
# is left matching nothing (window 0), so later tests' colours are untouched.
. "$(dirname "$0")/lib.sh"

start_platform
PROV=$(gw_client rv-prov provincial)
COUNTY=$(gw_client rv-county county 420106)
PARTNER=$(gw_client rv-partner partner)
rid="late-contact-$HC_TEST_RUN"
rule() { # rule COLOUR WINDOW_DAYS [VALID_FROM] [SOURCES] [KINDS]
	jq -nc --arg id "$rid" --arg c "$1" --argjson w "$2" --arg f "${3:-}" \
		--argjson s "${4:-[\"contact_tracing\"]}" --argjson k "${5:-[\"close_contact\"]}" \
		'{rule_id:$id, priority:99000, colour:$c, sources:$s, kinds:$k, window_days:$w,
		  description:"a close contact of 7 to 30 days ago (the rule-version test)"} + (if $f == "" then {} else {valid_from:$f} end)'
}
versions() { AUTH=$PROV http GET "$GATEWAY/v1/rules"; jq -c --arg id "$rid" '[.[] | select(.rule_id == $id)]' <<<"$BODY"; }

note "refusals"
AUTH=$COUNTY http POST "$GATEWAY/v1/rules" "$(rule green 30)"
assert_eq "$STATUS" 403 "a county system may not publish a rule"
AUTH=$COUNTY http GET "$GATEWAY/v1/rules"
assert_eq "$STATUS" 200 "but it may read them"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule red 14 "" '["commerce"]' '["purchase"]')"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 sources[0]" "purchase records may never colour a code"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule red 14 "" '["case_registry","gossip"]' '["confirmed"]')"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 sources[1]" "a source the platform does not know"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule yellow 14 "" '["contact_tracing"]' '[]')"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 kinds" "a yellow rule without kinds"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule green 14 "" '["contact_tracing","contact_tracing"]')"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 sources[1]" "a source twice"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule green 14 "$(date -u -d '1 hour ago' +%FT%TZ)")"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 valid_from" "a start in the past"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule green 14 "next tuesday, say")"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 valid_from" "a start that is not a time"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule green 14 "2031-11-31T00:00:00+08:00")"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "400 valid_from" "a day November does not have"
assert_eq "$(versions)" "[]" "nothing published by the refusals"

note "a bystander: a close contact of 100 days ago, past every version's window"
# who the rule versions queue, as they are queued (the queue is emptied as it is worked)
sql "CREATE TABLE public.test_rule_queued (person_key text, trigger_id text);
     CREATE FUNCTION public.test_rule_queued_add() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
       AS \$\$ BEGIN INSERT INTO public.test_rule_queued VALUES (NEW.person_key, NEW.trigger_id); RETURN NEW; END \$\$;
     CREATE TRIGGER test_rule_queued AFTER INSERT ON matching.reassessments FOR EACH ROW
       WHEN (NEW.trigger_kind = 'rule') EXECUTE FUNCTION public.test_rule_queued_add()" >/dev/null
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id bystander)" 420106)"
assert_eq "$STATUS" 201 "the bystander's declaration"
by=$(jq -r .person_key <<<"$BODY")
AUTH=$PROV http POST "$GATEWAY/v1/reference-records" "$(jq -nc --arg r "$(person_id bystander)" \
	--arg d "$(date -u -d '100 days ago' +%F)" --arg id "rv-by-$HC_TEST_RUN" \
	'{records:[{source:"contact_tracing", record_id:$id, kind:"close_contact", resident_id:$r, date:$d}]}')"
assert_eq "$STATUS" 200 "the bystander's record"
wait_for "the bystander's code" 30 code_is "$by" '.colour == "green"'

note "version 1 applies to the next assessment"
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id contact)" 420106)"
assert_eq "$STATUS" 201 "declaration"
key=$(jq -r .person_key <<<"$BODY")
wait_for "the code" 30 code_is "$key" '.colour == "green" and .reason.rule_id == "no-risk"'
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule green 30)"
assert_eq "$STATUS" 201 "version 1 published"
assert_eq "$(jq -c '[.version, .valid_to, .created_by]' <<<"$BODY")" "[1,null,\"rv-prov-$HC_TEST_RUN\"]" "version, no end, publisher"
contact() { # contact N: a close-contact record of the person, ten days ago
	jq -nc --arg r "$(person_id contact)" --arg d "$(date -u -d '10 days ago' +%F)" --arg id "rv-$1-$HC_TEST_RUN" \
		'{records:[{source:"contact_tracing", record_id:$id, kind:"close_contact", resident_id:$r, date:$d}]}'
}
latest() { curl -fsS "$MATCHING/v1/people/$key/assessments" | jq -r '.[0] | "\(.rule_id)/\(.rule_version)"'; }
AUTH=$PROV http POST "$GATEWAY/v1/reference-records" "$(contact 1)"
assert_eq "$STATUS" 200 "a close-contact record"
wait_for "an assessment by the new rule" 30 bash -c "[ \"\$(curl -fsS $MATCHING/v1/people/$key/assessments | jq -r '.[0].rule_id')\" = $rid ]"
assert_eq "$(latest)" "$rid/1" "the rule and version of the assessment"
# The workers apply a version within about a second of its start; had they
# looked at version 1 only after the record came, the person is queued for it
# too.  Version 2 waits for that: a version-1 re-assessment worked once
# version 2 is in force is decided by version 2 but names version 1.
v1_settled() {
	[ "$(sql "SELECT (SELECT applied_at IS NOT NULL FROM matching.rules WHERE rule_id = '$rid' AND version = 1)
	          AND NOT EXISTS (SELECT 1 FROM matching.reassessments WHERE person_key = '$key')")" = t ]
}
wait_for "version 1 applied and its re-assessments done" 30 v1_settled

note "version 2 from now ends version 1; version 3 starts tomorrow"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule green 0)"
assert_eq "$STATUS $(jq -r .version <<<"$BODY")" "201 2" "version 2 published"
v2_from=$(jq -r .valid_from <<<"$BODY")
assert_eq "$(versions | jq -r '.[] | select(.version == 1) | .valid_to')" "$v2_from" "version 1 ends when version 2 starts"
wait_for "a re-assessment by the default, nothing else having happened" 30 bash -c "[ \"\$(curl -fsS $MATCHING/v1/people/$key/assessments | jq -r '.[0].rule_id')\" = no-risk ]"
assert_eq "$(curl -fsS "$MATCHING/v1/people/$key/assessments" | jq -c '.[0].trigger')" "{\"kind\":\"rule\",\"id\":\"$rid:2\"}" "the re-assessment's trigger"
wait_for "the code after the rule's change" 30 code_is "$key" '.colour == "green" and .reason.rule_id == "no-risk"'
tomorrow=$(date -u -d '1 day' +%FT%TZ)
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule green 0 "$tomorrow")"
assert_eq "$STATUS $(jq -r .version <<<"$BODY")" "201 3" "version 3, from tomorrow"
AUTH=$PROV http POST "$GATEWAY/v1/rules" "$(rule green 0 "$(date -u -d '1 hour' +%FT%TZ)")"
assert_eq "$STATUS $(jq -r .field <<<"$BODY")" "409 valid_from" "a version starting before the latest"
v=$(versions)
assert_eq "$(jq -c '[.[] | .version]' <<<"$v")" "[1,2,3]" "the versions listed"
assert_eq "$(jq -r '.[] | select(.version == 2) | .valid_to' <<<"$v")" "$(jq -r '.[] | select(.version == 3) | .valid_from' <<<"$v")" "version 2 ends when version 3 starts"
assert_eq "$(jq -r '.[] | select(.version == 3) | .valid_to' <<<"$v")" null "version 3 has no end"
assert_eq "$(sql "SELECT string_agg(version || ':' || (applied_at IS NOT NULL), ',' ORDER BY version) FROM matching.rules WHERE rule_id = '$rid'")" "1:true,2:true,3:false" "the versions applied (not the one of tomorrow)"
assert_eq "$(jq -r '[.[] | .created_by] | unique | join(",")' <<<"$v")" "rv-prov-$HC_TEST_RUN" "who published them"
AUTH=$COUNTY http GET "$GATEWAY/v1/rules/$rid"
assert_eq "$STATUS $(jq -c '[.[] | .version]' <<<"$BODY")" "200 [1,2,3]" "one rule's versions"
assert_eq "$(jq -c '.[0]' <<<"$BODY")" "$(jq -c '.[0]' <<<"$v")" "the same version as in the list"
AUTH=$COUNTY http GET "$GATEWAY/v1/rules/no-such-rule-$HC_TEST_RUN"
assert_eq "$STATUS $(jq -r '.code + " " + .field' <<<"$BODY")" "404 not-found rule_id" "a rule that does not exist"
assert_eq "$(sql "SELECT count(*) FROM matching.rules WHERE rule_id = '$rid' AND valid_from <= now() AND (valid_to IS NULL OR valid_to > now())")" 1 "one version in force"
# (also for version 1 when the workers looked at it only after the close-contact record came)
assert_eq "$(sql "SELECT count(*) FROM public.test_rule_queued WHERE person_key = '$key' AND trigger_id = '$rid:2'")" 1 \
	"the person the rule decided, queued for version 2"
assert_eq "$(sql "SELECT count(*) FROM public.test_rule_queued WHERE person_key = '$by'")" 0 \
	"the bystander, past every version's window, queued for none"
sql "DROP TRIGGER test_rule_queued ON matching.reassessments; DROP FUNCTION public.test_rule_queued_add();
     DROP TABLE public.test_rule_queued" >/dev/null

note "every version announced once on hc.matching.rule.v1, in order, as listed"
announced() { [ "$(records_of hc.matching.rule.v1 "$rid" | wc -l)" -ge 3 ]; }
wait_for "the three versions announced" 30 announced
ev=$(records_of hc.matching.rule.v1 "$rid")
assert_eq "$(jq -s -c '[.[] | .subject]' <<<"$ev")" "[\"$rid:1\",\"$rid:2\",\"$rid:3\"]" "each version once, in order"
assert_eq "$(jq -s -c '.[2].data' <<<"$ev")" "$(jq -c '.[2]' <<<"$v")" "the newest version's event carries it as listed"
assert_eq "$(jq -s -c '[.[] | .data.valid_from]' <<<"$ev")" "$(jq -c '[.[] | .valid_from]' <<<"$v")" "when each came into force"
kafka_records "${HC_KAFKA_TOPIC_PREFIX}hc.matching.rule.v1" | jq -c '.payload | fromjson' |
	/usr/bin/python3 proto/validate.py records || fail "the rule events against their schema"
seeded=$(kafka_records "${HC_KAFKA_TOPIC_PREFIX}hc.matching.rule.v1" | jq -r '.payload | fromjson | select(.data.created_by == "migration") | .subject' | sort | xargs)
assert_eq "$seeded" "close-contact:1 confirmed-case:1 no-risk:1 risk-area:1 self-declared:1" "the versions that came with the schema, once each"
assert_eq "$(sql "SELECT count(*) FROM matching.rules WHERE announced_at IS NULL AND rule_id = '$rid'")" 0 "none left to announce"
