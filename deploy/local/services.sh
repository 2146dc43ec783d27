#!/usr/bin/env bash
# Starts or stops the platform's services: start | stop | status [NAME...].
#
# Each service runs from build/, with its own database role and settings
# from the environment, a PID file in var/run and a log in var/log, and is
# waited on until /readyz answers (database and broker reachable).
set -euo pipefail
. "$(dirname "$0")/env.sh"

names=("${@:2}")
[ ${#names[@]} -gt 0 ] || read -r -a names <<<"$HC_SERVICES"

port_of() { local v="HC_${1^^}_PORT"; echo "${!v}"; }

start_one() {
	local s=$1 pidfile=$HC_RUN_DIR/$1.pid port
	port=$(port_of "$s")
	if hc_pid_alive "$pidfile"; then
		return 0
	fi
	[ -x "$HC_BUILD/bin/hc-$s" ] || hc_die "hc-$s is not built; run make"
	# shellcheck disable=SC2046
	env $(hc_secret_env "$s") HC_INTAKE_URL=http://127.0.0.1:$HC_INTAKE_PORT HC_REVIEW_URL=http://127.0.0.1:$HC_REVIEW_PORT \
		HC_MATCHING_URL=http://127.0.0.1:$HC_MATCHING_PORT HC_CERTIFICATE_URL=http://127.0.0.1:$HC_CERTIFICATE_PORT \
		HC_CODEGEN_URL=http://127.0.0.1:$HC_CODEGEN_PORT HC_ANALYTICS_URL=http://127.0.0.1:$HC_ANALYTICS_PORT \
		HC_DATABASE_URL=$(hc_db_url "$s") HC_KAFKA_BROKERS=$HC_KAFKA_BROKERS HC_HTTP_PORT=$port \
		HC_KAFKA_INSTANCE_ID=${HC_KAFKA_INSTANCE_ID:-$s-1} HC_GATEWAY_API_KEYS=1 \
		setsid "$HC_BUILD/bin/hc-$s" </dev/null >>"$HC_LOG_DIR/$s.log" 2>&1 &
	echo $! >"$pidfile"
	hc_wait_ready "$s on http://127.0.0.1:$port" "$pidfile" "$HC_LOG_DIR/$s.log" 60 \
		curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz"
}

case "${1:-}" in
start)
	hc_load_secrets
	for s in "${names[@]}"; do start_one "$s"; done
	;;
stop)
	# Stop in reverse order: the gateway first, so no request reaches a stopped service.
	for ((i = ${#names[@]} - 1; i >= 0; i--)); do hc_stop_pid "$HC_RUN_DIR/${names[i]}.pid" "${names[i]}" 30; done
	;;
status)
	for s in "${names[@]}"; do
		if hc_pid_alive "$HC_RUN_DIR/$s.pid"; then echo "$s running (pid $(cat "$HC_RUN_DIR/$s.pid"))"; else echo "$s stopped"; fi
	done
	;;
*) echo "usage: $0 start|stop|status [NAME...]" >&2; exit 2 ;;
esac
