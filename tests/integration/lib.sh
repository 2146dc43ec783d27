# Helpers for the integration tests, sourced by each tests/integration/*.sh.
#
# A test starts the real service binaries against the real PostgreSQL and
# Kafka that tests/run.sh prepared (database hc_test, topic prefix and
# consumer groups of this run), talks to them over HTTP, reads Kafka with
# kcat (an independent client) and the database with psql, and fails with a
# message on the first broken expectation.  Services a test started are
# stopped when it exits.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. deploy/local/env.sh
hc_load_secrets

: "${HC_TEST_TMP:?run integration tests through tests/run.sh}"
TEST_NAME=$(basename "$0" .sh)
TEST_INTAKE_PORT=${TEST_INTAKE_PORT:-18081}
TEST_REVIEW_PORT=${TEST_REVIEW_PORT:-18082}
TEST_GATEWAY_PORT=${TEST_GATEWAY_PORT:-18080}
TEST_MATCHING_PORT=${TEST_MATCHING_PORT:-18083}
TEST_CERTIFICATE_PORT=${TEST_CERTIFICATE_PORT:-18084}
TEST_CODEGEN_PORT=${TEST_CODEGEN_PORT:-18085}
TEST_ANALYTICS_PORT=${TEST_ANALYTICS_PORT:-18086}
GATEWAY=http://127.0.0.1:$TEST_GATEWAY_PORT
INTAKE=http://127.0.0.1:$TEST_INTAKE_PORT
REVIEW=http://127.0.0.1:$TEST_REVIEW_PORT
MATCHING=http://127.0.0.1:$TEST_MATCHING_PORT
CERTIFICATE=http://127.0.0.1:$TEST_CERTIFICATE_PORT
CODEGEN=http://127.0.0.1:$TEST_CODEGEN_PORT
ANALYTICS=http://127.0.0.1:$TEST_ANALYTICS_PORT
TOPIC_APPLICATIONS=${HC_KAFKA_TOPIC_PREFIX}hc.intake.employer-application.v1

_test_pids=()
_test_cleanup() {
	local s
	for s in "${_test_pids[@]}"; do
		hc_stop_pid "$HC_TEST_TMP/$s.pid" "$s" 10 2>/dev/null || true
	done
}
trap _test_cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

note() { echo "-- $*"; }
# producer | holds [GREP-OPTIONS] PATTERN: true when a line of the input
# matches.  Reads the whole input first, so the producer never writes into a
# closed pipe (grep -q stops at the first match; under pipefail the
# producer's SIGPIPE or "failed writing body" would fail the test).
holds() {
	local all
	all=$(cat)
	grep -q "$@" <<<"$all"
}

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# svc_start NAME [VAR=value ...]: starts a service with this run's settings.
svc_start() {
	local port_var="TEST_${1^^}_PORT"
	svc_start_as "$1" "$1" "${!port_var}" "${@:2}"
}

# svc_start_as NAME SERVICE PORT [VAR=value...]: another process of SERVICE, known to
# svc_stop and the logs as NAME (its own Kafka instance id: NAME).
svc_start_as() {
	local s=$1 svc=$2 port=$3 i
	shift 3
	local pidfile=$HC_TEST_TMP/$s.pid threads=()
	# TEST_HTTP_THREADS: every service's HTTP workers (4 unless set); set empty (as the
	# benchmarks do), each service's own default, as in production (the gateway's 16)
	[ -n "${TEST_HTTP_THREADS-4}" ] && threads=(HC_HTTP_THREADS="${TEST_HTTP_THREADS-4}")
	# shellcheck disable=SC2046
	env $(hc_secret_env "$svc") HC_DATABASE_URL="$(hc_db_url "$svc" "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		HC_KAFKA_TOPIC_PREFIX="$HC_KAFKA_TOPIC_PREFIX" HC_HTTP_PORT="$port" "${threads[@]}" \
		HC_KAFKA_GROUP_ID="$svc-test-$HC_TEST_RUN" HC_KAFKA_INSTANCE_ID="$([ "$s" = "$svc" ] && echo "$svc-test-1" || echo "$s-test")" \
		HC_INTAKE_URL="$INTAKE" HC_REVIEW_URL="$REVIEW" HC_MATCHING_URL="$MATCHING" \
		HC_CERTIFICATE_URL="$CERTIFICATE" HC_CODEGEN_URL="$CODEGEN" HC_ANALYTICS_URL="$ANALYTICS" HC_GATEWAY_API_KEYS=1 HC_LOG_LEVEL=info "$@" \
		setsid "$HC_BUILD/bin/hc-$svc" </dev/null >>"$HC_TEST_TMP/$s.log" 2>&1 &
	echo $! >"$pidfile"
	_test_pids+=("$s")
	for ((i = 0; i < 300; i++)); do
		curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && return 0
		hc_pid_alive "$pidfile" || { tail -20 "$HC_TEST_TMP/$s.log" >&2; fail "$s exited during start"; }
		sleep 0.2
	done
	fail "$s did not become ready"
}

# gw_client ID ROLE [COUNTY]: creates a gateway API client; prints its key.
gw_client() {
	HC_DATABASE_URL="$(hc_db_url gateway "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		"$HC_BUILD/bin/hc-gateway" client add "$1-$HC_TEST_RUN" "${@:2}" 2>>"$HC_TEST_TMP/gateway-admin.log"
}

# gw_quota ID RATE BURST: sets a gateway client's own quota.
gw_quota() {
	HC_DATABASE_URL="$(hc_db_url gateway "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		"$HC_BUILD/bin/hc-gateway" client quota "$1-$HC_TEST_RUN" "$2" "$3" >/dev/null 2>>"$HC_TEST_TMP/gateway-admin.log" ||
		fail "could not set the quota of $1"
}

svc_stop() { hc_stop_pid "$HC_TEST_TMP/$1.pid" "$1" 30; }

# wait_exit NAME SECONDS: waits for the service to exit by itself; sets
# EXIT_STATUS to its exit status (it is this shell's child).
wait_exit() {
	local pid i
	pid=$(cat "$HC_TEST_TMP/$1.pid")
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 did not exit within $2 s"
	set +e
	wait "$pid"
	EXIT_STATUS=$?
	set -e
	rm -f "$HC_TEST_TMP/$1.pid"
}

svc_kill9() {
	local pid
	pid=$(cat "$HC_TEST_TMP/$1.pid")
	kill -KILL "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$HC_TEST_TMP/$1.pid"
	note "killed $1 (pid $pid) with SIGKILL"
}

# http METHOD URL [BODY [CONTENT-TYPE]]: sets STATUS and BODY.  With AUTH
# set to an API key, sends it as a Bearer token.
http() {
	local out auth=()
	[ -n "${AUTH:-}" ] && auth=(-H "Authorization: Bearer $AUTH")
	if [ $# -ge 3 ]; then
		out=$(printf '%s' "$3" | curl -sS "${auth[@]}" -X "$1" "$2" -H "Content-Type: ${4:-application/json}" --data-binary @- -w '\n%{http_code}')
	else
		out=$(curl -sS "${auth[@]}" -X "$1" "$2" -w '\n%{http_code}')
	fi
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# sql QUERY: runs QUERY as the superuser on the test database; prints rows.
sql() { deploy/local/pg.sh psql "$HC_PG_DATABASE" -tA -c "$1"; }

# resident_id BODY17: the 18-character ID with its GB 11643 check character.
resident_id() {
	local b=$1 w=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) c=10X98765432 s=0 i
	for ((i = 0; i < 17; i++)); do s=$((s + ${b:i:1} * w[i])); done
	echo "$b${c:s % 11:1}"
}

# credit_code BODY17: the 18-character code with its GB 32100 check character.
credit_code() {
	local b=$1 a=0123456789ABCDEFGHJKLMNPQRTUWXY w=(1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28) s=0 i v
	for ((i = 0; i < 17; i++)); do
		v=${a%%"${b:i:1}"*}
		s=$((s + ${#v} * w[i]))
	done
	v=$((31 - s % 31))
	[ $v = 31 ] && v=0
	echo "$b${a:v:1}"
}

# application_json EMPLOYER COUNTY N [SEED]: a valid application with N workers.
application_json() {
	local name=$1 county=$2 n=$3 seed=${4:-$RANDOM} i ws=""
	for ((i = 0; i < n; i++)); do
		local body
		body=$(printf '420102198%01d%02d%02d%03d' $(((seed + i) % 10)) $((1 + (seed + i) % 12)) $((1 + (seed * 7 + i) % 28)) $(((seed * 31 + i) % 1000)))
		ws+="${ws:+,}{\"name\":\"测试员$i\",\"resident_id\":\"$(resident_id "$body")\",\"phone\":\"139$(printf '%08d' $(((seed * 97 + i) % 100000000)))\"}"
	done
	printf '{"employer_name":"%s","credit_code":"%s","county_code":"%s","category":"public_utilities","workers":[%s]}' \
		"$name" "$(credit_code 91420100MA4K3W5T0)" "$county" "$ws"
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	local what=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 5; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	fail "timed out after ${secs}s waiting for $what"
}

# kafka_records TOPIC: every record of TOPIC as one JSON object per line (kcat -J).
kafka_records() { kcat -b "$HC_KAFKA_BROKERS" -C -t "$1" -o beginning -e -q -J 2>/dev/null; }

# start_platform: all six services, the gateway last.
start_platform() {
	local s
	for s in intake review matching certificate codegen analytics gateway; do svc_start "$s" "$@"; done
}

# person_id N: a resident ID unique to this run, this test and N (born 1980-1999).
person_id() {
	local h
	h=$(printf '%s-%s-%s' "$HC_TEST_RUN" "$TEST_NAME" "$1" | sha256sum | tr -dc 0-9 | head -c 9)
	resident_id "$(printf '420111%04d%02d%02d%s' $((1980 + 10#${h:0:2} % 20)) $((1 + 10#${h:2:2} % 12)) $((1 + 10#${h:4:2} % 28)) "${h:6:3}")"
}

# post_entry CFG URL BODYFILE OUTFILE [BEARER]: appends a JSON POST to the curl config CFG, for
# `curl --parallel -K CFG`; each answer's status goes to curl's output as "CODE ".
post_entry() {
	[ -s "$1" ] && echo next >>"$1" # curl refuses a trailing "next"
	printf 'url = "%s"\nheader = "Content-Type: application/json"\n' "$2" >>"$1"
	[ -z "${5:-}" ] || printf 'header = "Authorization: Bearer %s"\n' "$5" >>"$1"
	printf 'data-binary = "@%s"\nwrite-out = "%%{http_code} "\noutput = "%s"\n' "$3" "$4" >>"$1"
}

# post_with_refusal TABLE CHECK URL BEARER METRICS GAUGE: POSTs $HC_TEST_TMP/mixed-0.json
# alone, then mixed-1.json .. mixed-10.json at once, while TABLE refuses the rows that fail CHECK
# (a constraint the service's own checks do not know) and is held: the first request's commit
# waits, and the lock is let go only once the service's GAUGE (at METRICS: its writer's queue)
# shows the ten waiting, so they gather in one group commit whatever the machine's speed.
# Their answers in mixed-N.out, statuses in mixed.codes.
# _lock_is t|f: an ExclusiveLock on $table granted (t), or a lock on it awaited (f)
_lock_is() {
	[ "$(sql "SELECT count(*) FROM pg_locks WHERE relation = '$table'::regclass AND granted = '$1'$([ "$1" = t ] && echo " AND mode = 'ExclusiveLock'")")" -gt 0 ]
}
_gauge_is() { [ "$(curl -fsS "$1" | awk -v g="$2" '$1 == g {print $2}')" = "$3" ]; }
post_with_refusal() {
	local table=$1 url=$3 bearer=$4 metrics=$5 gauge=$6 gate="refuse-$HC_TEST_RUN-$RANDOM"
	local lock_pid first_pid curl_pid i
	sql "ALTER TABLE $table ADD CONSTRAINT test_refuse CHECK ($2) NOT VALID" >/dev/null
	sql "CREATE TABLE IF NOT EXISTS public.test_gates (name text PRIMARY KEY)" >/dev/null
	# the lock, held until the gate opens (at most 30 s)
	sql "DO \$\$ BEGIN LOCK TABLE $table IN EXCLUSIVE MODE;
	     FOR i IN 1..600 LOOP EXIT WHEN EXISTS (SELECT 1 FROM public.test_gates WHERE name = '$gate');
	     PERFORM pg_sleep(0.05); END LOOP; END \$\$" >/dev/null &
	lock_pid=$!
	wait_for "the lock on $table" 10 _lock_is t
	AUTH=$bearer http POST "$url" "$(cat "$HC_TEST_TMP/mixed-0.json")" &
	first_pid=$!
	wait_for "a writer waiting on $table" 10 _lock_is f
	: >"$HC_TEST_TMP/mixed.cfg"
	for i in $(seq 1 10); do
		post_entry "$HC_TEST_TMP/mixed.cfg" "$url" "$HC_TEST_TMP/mixed-$i.json" "$HC_TEST_TMP/mixed-$i.out" "$bearer"
	done
	# --parallel-immediate: all ten connect at once (by default curl holds the others back
	# until the first answer tells whether it could multiplex them on one connection)
	curl -sS --no-progress-meter --parallel --parallel-immediate --parallel-max 10 -K "$HC_TEST_TMP/mixed.cfg" >"$HC_TEST_TMP/mixed.codes" &
	curl_pid=$!
	wait_for "the ten queued behind the first" 10 _gauge_is "$metrics" "$gauge" 10
	sql "INSERT INTO public.test_gates VALUES ('$gate')" >/dev/null
	wait "$curl_pid" "$first_pid" "$lock_pid"
	sql "ALTER TABLE $table DROP CONSTRAINT test_refuse" >/dev/null
}

# declaration_json RESIDENT_ID COUNTY [EMPLOYER_APPLICATION] [HEALTH]
declaration_json() {
	jq -nc --arg r "$1" --arg c "$2" --arg e "${3:-}" \
		--argjson h "${4:-{\"temperature\":36.5,\"symptoms\":[],\"contact_with_cases\":false,\"risk_area_travel_14d\":false\}}" \
		'{name:"张三丰", resident_id:$r, phone:"13912345678", county_code:$c, health:$h}
		 + (if $e == "" then {} else {employer_application_id:$e} end)'
}

# code_is KEY JQ-FILTER: true when the person's current code (codegen) matches.
code_is() { curl -fsS "$CODEGEN/v1/codes/$1" 2>/dev/null | jq -e "$2" >/dev/null; }

# records_of TOPIC KEY: the CloudEvents of TOPIC (of this run) keyed KEY, one per line.
records_of() {
	kafka_records "${HC_KAFKA_TOPIC_PREFIX}$1" | jq -c --arg k "$2" 'select(.key == $k) | .payload | fromjson'
}
