# A test or benchmark session on the real servers, sourced by tests/run.sh
# and tests/bench/run.sh.
#
# session_begin NAME starts PostgreSQL and Kafka when they are not running
# (remembering which, to stop only those), gives the session a fresh
# database named NAME, its own topic prefix and temp directory, and creates
# the topics.  The EXIT trap stops every process the session started,
# deletes its topics and stops the servers it started.

. deploy/local/env.sh

_session_started=()

_session_end() {
	local f s
	for f in "$HC_TEST_TMP"/*.pid; do
		[ -e "$f" ] && hc_stop_pid "$f" "$(basename "$f" .pid)" 10
	done
	if [ -x "$HC_BUILD/bin/hc-topics" ] && deploy/local/kafka.sh status >/dev/null 2>&1; then
		deploy/local/topics.sh delete >/dev/null 2>&1 || true
	fi
	for s in "${_session_started[@]}"; do deploy/local/$s.sh stop; done
	# The summary goes last, after the servers' stop messages.
	[ -z "${SESSION_SUMMARY:-}" ] || echo "$SESSION_SUMMARY"
}

session_begin() {
	local db=$1
	export HC_TEST_RUN
	# Letters break digit runs, so tags built from it pass the phone/ID check.
	HC_TEST_RUN=r$(date +%s)p$$
	export HC_TEST_TMP=$HC_VAR/$db/$HC_TEST_RUN
	export HC_PG_DATABASE=$db
	export HC_KAFKA_TOPIC_PREFIX="$db.$HC_TEST_RUN."
	mkdir -p "$HC_TEST_TMP"
	trap _session_end EXIT
	trap 'exit 130' INT TERM
	if ! deploy/local/pg.sh status >/dev/null 2>&1; then
		deploy/local/pg.sh start || return 1
		_session_started=(pg "${_session_started[@]}")
	fi
	if ! deploy/local/kafka.sh status >/dev/null 2>&1; then
		deploy/local/kafka.sh start || return 1
		_session_started=(kafka "${_session_started[@]}")
	fi
	deploy/local/pg.sh psql postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || return 1
	deploy/local/pg.sh provision "$db" || return 1
	deploy/local/topics.sh create || return 1
}
