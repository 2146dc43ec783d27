#!/usr/bin/env bash
# Each service's role can touch only its own schema, and only intake is given
# the key that seals personal data; migrations are recorded and applied
# exactly once, also when two instances start at the same time.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start review

as_role() { PGPASSWORD=$(sed -n "s/^HC_PG_PASSWORD_${1^^}=//p" "$HC_SECRETS_FILE") \
	psql -X -q -h "$HC_PG_HOST" -p "$HC_PG_PORT" -U "$1" -d "$HC_PG_DATABASE" -tA -c "$2" 2>&1 || true; }

note "own schema: allowed"
assert_eq "$(as_role review 'SELECT count(*) >= 0 FROM queue_items')" t "review reads its queue"
assert_eq "$(as_role intake 'SELECT count(*) >= 0 FROM employer_applications')" t "intake reads its applications"

note "other schemas: refused"
as_role review 'SELECT * FROM intake.application_workers' | holds 'permission denied' || fail "review could read intake"
as_role intake 'SELECT * FROM review.queue_items' | holds 'permission denied' || fail "intake could read review"
for s in review matching certificate codegen analytics gateway; do
	as_role "$s" 'SELECT * FROM intake.declarations' | holds 'permission denied' || fail "$s could read intake's declarations"
done
as_role certificate 'SELECT * FROM matching.records' | holds 'permission denied' || fail "certificate could read matching"
as_role codegen 'SELECT * FROM certificate.certificates' | holds 'permission denied' || fail "codegen could read certificate"
as_role matching 'SELECT * FROM codegen.code_versions' | holds 'permission denied' || fail "matching could read codegen"
as_role review 'CREATE TABLE public.x (a int)' | holds 'permission denied' || fail "review could create in public"
as_role intake 'CREATE SCHEMA sneaky' | holds 'permission denied' || fail "intake could create a schema"

note "secrets only where needed"
tr '\0' '\n' </proc/"$(cat "$HC_TEST_TMP/review.pid")"/environ | holds -E '^HC_(PII_KEY|PERSON_KEY_SECRET)=' && fail "review was given a secret it does not need"
tr '\0' '\n' </proc/"$(cat "$HC_TEST_TMP/intake.pid")"/environ | holds '^HC_PII_KEY=' || fail "intake lacks its key"

note "migrations recorded once"
# migrations_of SERVICE: "bus:1,...,SERVICE:1,...", one per file under common/bus/migrations and
# services/SERVICE/migrations
migrations_of() {
	local f list=""
	for f in common/bus/migrations/*.sql; do list+="${list:+,}bus:$((10#$(basename "$f" | cut -d_ -f1)))"; done
	for f in services/"$1"/migrations/*.sql; do list+=",$1:$((10#$(basename "$f" | cut -d_ -f1)))"; done
	echo "$list"
}
review_count=$(($(ls services/review/migrations/*.sql common/bus/migrations/*.sql | wc -l)))
assert_eq "$(sql "SELECT string_agg(component || ':' || version, ',' ORDER BY component, version) FROM intake.schema_migrations")" "$(migrations_of intake)" "intake migrations"
assert_eq "$(sql "SELECT string_agg(component || ':' || version, ',' ORDER BY component, version) FROM review.schema_migrations")" "$(migrations_of review)" "review migrations"

note "two concurrent starts on a fresh schema apply each migration once"
sql "DROP SCHEMA IF EXISTS review_twin CASCADE; CREATE SCHEMA review_twin AUTHORIZATION review"
for n in 1 2; do
	env HC_DATABASE_URL="$(hc_db_url review "$HC_PG_DATABASE")" HC_DB_SCHEMA=review_twin HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		HC_KAFKA_TOPIC_PREFIX="$HC_KAFKA_TOPIC_PREFIX" HC_KAFKA_GROUP_ID="twin-$HC_TEST_RUN-$n" HC_HTTP_PORT=$((18090 + n)) \
		setsid "$HC_BUILD/bin/hc-review" </dev/null >>"$HC_TEST_TMP/twin$n.log" 2>&1 &
	echo $! >"$HC_TEST_TMP/twin$n.pid"
	_test_pids+=("twin$n")
done
wait_for "twin 1 ready" 60 curl -fsS http://127.0.0.1:18091/readyz
wait_for "twin 2 ready" 60 curl -fsS http://127.0.0.1:18092/readyz
assert_eq "$(sql "SELECT count(*) FROM review_twin.schema_migrations")" "$review_count" "twin migrations"
assert_eq "$(cat "$HC_TEST_TMP"/twin*.log | grep -c 'applied migration review 1')" 1 "review migration applied once"
note "only one relay publishes per schema"
wait_for "one relay" 10 bash -c "[ \$(cat $HC_TEST_TMP/twin*.log | grep -c 'outbox relay publishing for schema review_twin') = 1 ]"
sleep 2
assert_eq "$(cat "$HC_TEST_TMP"/twin*.log | grep -c 'outbox relay publishing for schema review_twin')" 1 "relays holding the lock"
hc_stop_pid "$HC_TEST_TMP/twin1.pid" twin1 10
hc_stop_pid "$HC_TEST_TMP/twin2.pid" twin2 10
sql "DROP SCHEMA review_twin CASCADE"

note "a restart applies nothing again"
svc_stop review
svc_start review
assert_eq "$(grep -c 'applied migration' "$HC_TEST_TMP/review.log")" "$review_count" "migration lines in review's log"
echo passed
