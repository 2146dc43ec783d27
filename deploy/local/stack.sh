#!/usr/bin/env bash
# The whole local platform: up | down | status.
#
#   up    start PostgreSQL, provision roles and schemas, start Kafka, create
#         topics, start every service; prints where each listens
#   down  stop the services, Kafka and PostgreSQL (each by its PID file)
set -euo pipefail
dir=$(dirname "$0")
. "$dir/env.sh"

case "${1:-}" in
up)
	"$dir/pg.sh" start
	"$dir/pg.sh" provision
	"$dir/kafka.sh" start
	"$dir/topics.sh" create
	"$dir/services.sh" start
	"$dir/dev-clients.sh"
	cat <<MSG

The platform is running.
  gateway http://127.0.0.1:$HC_GATEWAY_PORT   <- the public API: start here
  intake  http://127.0.0.1:$HC_INTAKE_PORT   (internal: employer applications)
  review  http://127.0.0.1:$HC_REVIEW_PORT   (internal: county review queues)
  Kafka   $HC_KAFKA_BROKERS     PostgreSQL  $HC_PG_HOST:$HC_PG_PORT
  logs    $HC_LOG_DIR
API keys of the development clients (one per role): . var/dev-keys.env
Stop it with: make stop
MSG
	;;
down)
	"$dir/services.sh" stop
	"$dir/kafka.sh" stop
	"$dir/pg.sh" stop
	;;
status)
	"$dir/pg.sh" status || true
	"$dir/kafka.sh" status || true
	"$dir/services.sh" status
	;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
