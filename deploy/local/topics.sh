#!/usr/bin/env bash
# Creates (or with `delete`, deletes) the topics of deploy/topics.txt and
# their .dlq twins on the local broker, through hc-topics (the Kafka admin
# API).  HC_KAFKA_TOPIC_PREFIX namespaces them (test runs use their own).
set -euo pipefail
. "$(dirname "$0")/env.sh"
op=${1:-create}
"$HC_BUILD/bin/hc-topics" "$op" "$HC_KAFKA_BROKERS" "$HC_ROOT/deploy/topics.txt" \
	"${HC_KAFKA_TOPIC_PREFIX:-}" 1 >"$HC_LOG_DIR/topics.log" 2>&1 ||
	{ cat "$HC_LOG_DIR/topics.log" >&2; hc_die "could not $op topics"; }
hc_log "topics: $(awk '{print $1}' "$HC_LOG_DIR/topics.log" | sort | uniq -c | xargs)"
