#!/usr/bin/env bash
# Creates the local stack's development API clients, one per role (and a
# county system for 420102 and 420103, the city headquarters 420100), and keeps their keys in
# var/dev-keys.env as HC_KEY_<NAME>.  Keys are shown only when created, so a
# client whose key was lost is re-created.
set -euo pipefail
. "$(dirname "$0")/env.sh"
hc_load_secrets

keys=$HC_VAR/dev-keys.env
touch "$keys"
chmod 600 "$keys"

ensure() {
	local id=$1 var=$2 key
	shift 2
	grep -q "^$var=" "$keys" && return 0
	"$HC_ROOT/deploy/local/pg.sh" psql "$HC_PG_DATABASE" -q -c "DELETE FROM gateway.api_clients WHERE id = '$id'"
	key=$(HC_DATABASE_URL=$(hc_db_url gateway) HC_KAFKA_BROKERS=$HC_KAFKA_BROKERS \
		"$HC_BUILD/bin/hc-gateway" client add "$id" "$@" 2>>"$HC_LOG_DIR/gateway-admin.log")
	echo "$var=$key" >>"$keys"
}

ensure dev-provincial HC_KEY_PROVINCIAL provincial
ensure dev-partner HC_KEY_PARTNER partner
ensure dev-county-420102 HC_KEY_COUNTY_420102 county 420102
ensure dev-county-420103 HC_KEY_COUNTY_420103 county 420103
ensure dev-city-420100 HC_KEY_CITY_420100 county 420100
ensure dev-checkpoint HC_KEY_CHECKPOINT checkpoint
ensure dev-analyst HC_KEY_ANALYST analyst
hc_log "development API keys in $keys"
