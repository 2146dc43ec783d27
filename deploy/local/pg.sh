#!/usr/bin/env bash
# The private PostgreSQL 15 cluster: start | stop | status | provision DB | psql DB [args].
#
# initdb and pg_ctl run as the postgres user (initdb refuses root).  The
# cluster listens on 127.0.0.1:$HC_PG_PORT and on a socket in its own
# directory; the services connect through the socket.  Only the postgres
# superuser logs in without a password (peer, on the socket); every service
# role gives its password (SCRAM), on the socket or over TCP.  `provision DB` creates the database, one login role and one
# schema per service; a role can use only its own schema.
set -euo pipefail
. "$(dirname "$0")/env.sh"

pidfile=$HC_RUN_DIR/postgres.pid
as_pg() { (cd / && runuser -u postgres -- "$@"); }

pg_psql() {
	local db=$1
	shift
	as_pg "$HC_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HC_PG_SOCKET_DIR" -p "$HC_PG_PORT" -d "$db" "$@"
}

start() {
	if hc_pid_alive "$pidfile"; then
		return 0
	fi
	mkdir -p "$HC_PG_DIR" "$HC_PG_SOCKET_DIR"
	chown postgres:postgres "$HC_PG_DIR" "$HC_PG_SOCKET_DIR"
	if [ ! -s "$HC_PG_DATA/PG_VERSION" ]; then
		hc_log "initialising PostgreSQL cluster in $HC_PG_DATA"
		as_pg "$HC_PG_BIN/initdb" -D "$HC_PG_DATA" -U postgres --auth-local=peer \
			--auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$HC_LOG_DIR/initdb.log" 2>&1 ||
			{ cat "$HC_LOG_DIR/initdb.log" >&2; hc_die "initdb failed"; }
	fi
	# written on every start, so a cluster made before the services used the socket gets it too
	cat >"$HC_PG_DATA/pg_hba.conf" <<-'HBA'
		# TYPE  DATABASE  USER      ADDRESS       METHOD
		local   all       postgres                peer
		local   all       all                     scram-sha-256
		host    all       all       127.0.0.1/32  scram-sha-256
		host    all       all       ::1/128       scram-sha-256
	HBA
	chown postgres:postgres "$HC_PG_DATA/pg_hba.conf"
	touch "$HC_PG_DIR/postgres.log"
	chown postgres:postgres "$HC_PG_DIR/postgres.log"
	# pg_ctl -w waits until the server accepts connections.  shared_buffers: PostgreSQL's default
	# (128 MB) is sized for a small machine; at 100,000 people re-assessed the database is over a
	# gigabyte and every person's reads missed the buffer cache (an index probe 25 us instead of 4).
	as_pg "$HC_PG_BIN/pg_ctl" -D "$HC_PG_DATA" -l "$HC_PG_DIR/postgres.log" -w -t 60 \
		-o "-p $HC_PG_PORT -k $HC_PG_SOCKET_DIR -c listen_addresses=$HC_PG_HOST -c max_connections=200 -c shared_buffers=${HC_PG_SHARED_BUFFERS:-1GB} ${HC_PG_OPTIONS:-}" \
		start >/dev/null || { tail -20 "$HC_PG_DIR/postgres.log" >&2; hc_die "PostgreSQL did not start"; }
	head -1 "$HC_PG_DATA/postmaster.pid" >"$pidfile"
	hc_log "PostgreSQL listening on $HC_PG_HOST:$HC_PG_PORT (pid $(cat "$pidfile"))"
}

stop() {
	if ! hc_pid_alive "$pidfile"; then
		rm -f "$pidfile"
		return 0
	fi
	# pg_ctl stops the postmaster named in the data directory's pid file.
	as_pg "$HC_PG_BIN/pg_ctl" -D "$HC_PG_DATA" -m fast -w -t 60 stop >/dev/null || true
	hc_stop_pid "$pidfile" PostgreSQL 10
}

provision() {
	local db=${1:-$HC_PG_DATABASE} s pw_var
	hc_load_secrets
	if [ -z "$(pg_psql postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
		pg_psql postgres -c "CREATE DATABASE \"$db\""
	fi
	pg_psql "$db" -c "REVOKE ALL ON SCHEMA public FROM PUBLIC; REVOKE ALL ON DATABASE \"$db\" FROM PUBLIC;"
	for s in intake review gateway matching certificate codegen analytics; do
		pw_var="HC_PG_PASSWORD_${s^^}"
		pg_psql "$db" -v role="$s" -v pw="${!pw_var}" -v db="$db" <"$HC_ROOT/deploy/sql/provision_role.sql"
	done
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) hc_pid_alive "$pidfile" && echo "PostgreSQL running (pid $(cat "$pidfile"))" || { echo "PostgreSQL stopped"; exit 1; } ;;
provision) provision "${2:-}" ;;
psql) db=${2:-$HC_PG_DATABASE}; shift 2 || true; pg_psql "$db" "$@" ;;
dump) # dump DB SCHEMA: the schema's rows as text (privacy scans)
	as_pg "$HC_PG_BIN/pg_dump" -h "$HC_PG_SOCKET_DIR" -p "$HC_PG_PORT" --data-only --schema="$3" "$2" ;;
*) echo "usage: $0 start|stop|status|provision [DB]|psql [DB] [ARGS]|dump DB SCHEMA" >&2; exit 2 ;;
esac
