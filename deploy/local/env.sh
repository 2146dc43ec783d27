# Settings of the one-machine stack, sourced by every script in deploy/local
# and by the tests.  Every value can be overridden from the environment.
# Defaults keep all state inside the repository's ignored var/ directory.

HC_ROOT=${HC_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HC_VAR=${HC_VAR:-$HC_ROOT/var}
HC_BUILD=${HC_BUILD:-$HC_ROOT/build/release}
HC_RUN_DIR=${HC_RUN_DIR:-$HC_VAR/run}
HC_LOG_DIR=${HC_LOG_DIR:-$HC_VAR/log}

# PostgreSQL: a private cluster on its own port, run as the postgres user.
HC_PG_PORT=${HC_PG_PORT:-55432}
HC_PG_HOST=${HC_PG_HOST:-127.0.0.1}
HC_PG_DATABASE=${HC_PG_DATABASE:-hc}
HC_PG_BIN=${HC_PG_BIN:-/usr/lib/postgresql/15/bin}
if [ -z "${HC_PG_DIR:-}" ]; then
	# The postgres user must be able to reach its data directory; a checkout
	# under a private home directory is not reachable, so fall back to /var/tmp.
	if id postgres >/dev/null 2>&1 && (cd / && runuser -u postgres -- test -x "$HC_ROOT") 2>/dev/null; then
		HC_PG_DIR=$HC_VAR/pg
	else
		HC_PG_DIR=/var/tmp/hc-pg-$(printf '%s' "$HC_ROOT" | md5sum | cut -c1-8)
	fi
fi
HC_PG_DATA=$HC_PG_DIR/data
HC_PG_SOCKET_DIR=$HC_PG_DIR/socket

# Kafka: the Apache broker from Maven Central, single-node KRaft.
HC_KAFKA_PORT=${HC_KAFKA_PORT:-59092}
HC_KAFKA_CONTROLLER_PORT=${HC_KAFKA_CONTROLLER_PORT:-59093}
HC_KAFKA_DIR=${HC_KAFKA_DIR:-$HC_VAR/kafka}
HC_KAFKA_LIBS=${HC_KAFKA_LIBS:-$HC_VAR/kafka-libs}
HC_KAFKA_HEAP=${HC_KAFKA_HEAP:-768m}
HC_KAFKA_BROKERS=${HC_KAFKA_BROKERS:-127.0.0.1:$HC_KAFKA_PORT}

# Services: name and HTTP port.
# Started in this order (the gateway last), stopped in reverse.
HC_SERVICES=${HC_SERVICES:-"intake review matching certificate codegen analytics gateway"}
HC_GATEWAY_PORT=${HC_GATEWAY_PORT:-8080}
HC_INTAKE_PORT=${HC_INTAKE_PORT:-8081}
HC_REVIEW_PORT=${HC_REVIEW_PORT:-8082}
HC_MATCHING_PORT=${HC_MATCHING_PORT:-8083}
HC_CERTIFICATE_PORT=${HC_CERTIFICATE_PORT:-8084}
HC_CODEGEN_PORT=${HC_CODEGEN_PORT:-8085}
HC_ANALYTICS_PORT=${HC_ANALYTICS_PORT:-8086}

# Secrets for the local stack, generated once into var/secrets.env.
HC_SECRETS_FILE=${HC_SECRETS_FILE:-$HC_VAR/secrets.env}

mkdir -p "$HC_RUN_DIR" "$HC_LOG_DIR"

hc_log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
hc_die() { hc_log "error: $*"; exit 1; }

# hc_pid_alive FILE: true when FILE names a running process.
# A zombie (killed, not yet reaped by an init that reaps slowly) is not alive.
hc_pid_alive() {
	local pid
	[ -s "$1" ] || return 1
	pid=$(cat "$1")
	kill -0 "$pid" 2>/dev/null && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# hc_stop_pid FILE NAME [SECONDS]: TERM the process in FILE, KILL it after SECONDS.
hc_stop_pid() {
	local file=$1 name=$2 wait=${3:-30} pid i
	hc_pid_alive "$file" || { rm -f "$file"; return 0; }
	pid=$(cat "$file")
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < wait * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		hc_log "$name did not stop in ${wait}s; killing $pid"
		kill -KILL "$pid" 2>/dev/null || true
		sleep 0.5
	fi
	rm -f "$file"
	hc_log "$name stopped"
}

# hc_wait_ready NAME PIDFILE LOG SECONDS CHECK...: waits until CHECK succeeds;
# fails early, showing the log, if the process in PIDFILE exits.
hc_wait_ready() {
	local name=$1 pidfile=$2 log=$3 secs=$4 i
	shift 4
	for ((i = 0; i < secs * 5; i++)); do
		if "$@" >/dev/null 2>&1; then
			hc_log "$name ready (pid $(cat "$pidfile"))"
			return 0
		fi
		hc_pid_alive "$pidfile" || { tail -30 "$log" >&2; hc_die "$name exited during start"; }
		sleep 0.2
	done
	tail -30 "$log" >&2
	hc_die "$name did not become ready in ${secs}s"
}

hc_load_secrets() {
	if [ ! -s "$HC_SECRETS_FILE" ]; then
		mkdir -p "$(dirname "$HC_SECRETS_FILE")"
		umask 077
		{
			echo "HC_PII_KEY=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
			echo "HC_PERSON_KEY_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
			for s in intake review gateway matching certificate codegen analytics; do
				echo "HC_PG_PASSWORD_${s^^}=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
			done
		} >"$HC_SECRETS_FILE"
	fi
	# secrets added since the file was made
	for s in analytics; do
		grep -q "^HC_PG_PASSWORD_${s^^}=" "$HC_SECRETS_FILE" ||
			echo "HC_PG_PASSWORD_${s^^}=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" >>"$HC_SECRETS_FILE"
	done
	grep -q '^HC_CODE_KEY_SECRET=' "$HC_SECRETS_FILE" ||
		echo "HC_CODE_KEY_SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" >>"$HC_SECRETS_FILE"
	# the P-256 key that signs the gateway's responses (PKCS#8 DER, hex)
	grep -q '^HC_RESPONSE_KEY=' "$HC_SECRETS_FILE" ||
		echo "HC_RESPONSE_KEY=$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER 2>/dev/null |
			od -An -tx1 -v | tr -d ' \n')" >>"$HC_SECRETS_FILE"
	set -a
	# shellcheck disable=SC1090
	. "$HC_SECRETS_FILE"
	set +a
}

# hc_secret_env SERVICE: `env` arguments that withhold the secrets SERVICE
# does not need: only intake seals personal data (HC_PII_KEY); only intake,
# matching and certificate turn ID numbers into person keys; only codegen
# opens the signing keys (HC_CODE_KEY_SECRET); only the gateway signs
# responses (HC_RESPONSE_KEY).
hc_secret_env() {
	case "$1" in
	intake) echo "-u HC_CODE_KEY_SECRET -u HC_RESPONSE_KEY" ;;
	matching | certificate) echo "-u HC_PII_KEY -u HC_CODE_KEY_SECRET -u HC_RESPONSE_KEY" ;;
	codegen) echo "-u HC_PII_KEY -u HC_PERSON_KEY_SECRET -u HC_RESPONSE_KEY" ;;
	gateway) echo "-u HC_PII_KEY -u HC_PERSON_KEY_SECRET -u HC_CODE_KEY_SECRET" ;;
	*) echo "-u HC_PII_KEY -u HC_PERSON_KEY_SECRET -u HC_CODE_KEY_SECRET -u HC_RESPONSE_KEY" ;;
	esac
}

# hc_db_url SERVICE [DATABASE]: the libpq URL of the service's own role, through the
# cluster's Unix socket (a statement's round trip costs about half of one over loopback TCP;
# the cluster also listens on $HC_PG_HOST:$HC_PG_PORT, with the same password check).
hc_db_url() {
	local pw_var="HC_PG_PASSWORD_${1^^}"
	echo "postgresql://$1:${!pw_var}@/${2:-$HC_PG_DATABASE}?host=$HC_PG_SOCKET_DIR&port=$HC_PG_PORT&application_name=hc-$1"
}
