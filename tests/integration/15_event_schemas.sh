#!/usr/bin/env bash
# Every event type's JSON Schema (proto/events) accepts its valid fixtures
# and refuses its invalid ones, and the record the real intake publishes
# validates against its schema.  The validator is Debian's python3-jsonschema
# (Draft 2020-12), independent of our C code.
. "$(dirname "$0")/lib.sh"

note "fixtures"
/usr/bin/python3 proto/validate.py fixtures

note "a record intake really published"
svc_start intake
http POST "$INTAKE/v1/employer-applications" "$(application_json "schema-$HC_TEST_RUN" 420881 3 11)"
assert_eq "$STATUS" 201 "POST"
id=$(jq -r .id <<<"$BODY")
wait_for "the record on Kafka" 30 bash -c "kcat -b $HC_KAFKA_BROKERS -C -t '$TOPIC_APPLICATIONS' -o beginning -e -q -J | grep -q '$id'"
kafka_records "$TOPIC_APPLICATIONS" | jq -c --arg id "$id" 'select(.key == $id) | .payload | fromjson' |
	/usr/bin/python3 proto/validate.py record
echo passed
