#!/usr/bin/env bash
# The public API admits only clients with a valid API key, each route only
# its roles, and each object only its owner: a partner sees what it
# submitted, a county system its county.  Refusals reveal nothing: every bad
# key gets the same 401, another tenant's object the same 404 as a missing one.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start review
svc_start gateway
P1=$(gw_client p1 partner)
P2=$(gw_client p2 partner)
C102=$(gw_client c102 county 420102)
C103=$(gw_client c103 county 420103)
PROV=$(gw_client prov provincial)
CHK=$(gw_client chk checkpoint)

expect() { # expect STATUS CODE KEY METHOD PATH [BODY]
	local st=$1 code=$2
	AUTH=$3 http "$4" "$GATEWAY$5" "${@:6}"
	assert_eq "$STATUS" "$st" "$4 $5 as ${3:0:12}"
	[ "$code" = - ] || assert_eq "$(jq -r .code <<<"$BODY")" "$code" "problem code for $4 $5"
}

note "partners submit; each sees only its own"
AUTH=$P1 http POST "$GATEWAY/v1/employer-applications" "$(application_json "authz-$HC_TEST_RUN" 420102 1 71)"
assert_eq "$STATUS" 201 "partner submits"
a=$(jq -r .id <<<"$BODY")
wait_for "queued" 30 curl -fsS "$REVIEW/v1/queue-items/$a"
expect 200 - "$P1" GET "/v1/employer-applications/$a"
expect 404 not-found "$P2" GET "/v1/employer-applications/$a"
missing=$(cat /proc/sys/kernel/random/uuid)
AUTH=$P2 http GET "$GATEWAY/v1/employer-applications/$missing"
absent_body=$(jq -c 'del(.trace_id, .instance)' <<<"$BODY")
AUTH=$P2 http GET "$GATEWAY/v1/employer-applications/$a"
present_body=$(jq -c 'del(.trace_id, .instance) | .detail |= sub("'"$a"'"; "'"$missing"'")' <<<"$BODY")
assert_eq "$present_body" "$absent_body" "another tenant's application looks exactly like a missing one"

note "no key, a bad key, a wrong secret, an unknown client: the same 401"
http GET "$GATEWAY/v1/employer-applications/$a"
assert_eq "$STATUS" 401 "no key"
curl -sS -D - -o /dev/null "$GATEWAY/v1/employer-applications/$a" | holds -i '^WWW-Authenticate: Bearer' || fail "WWW-Authenticate missing"
expect 401 unauthenticated "garbage" GET "/v1/employer-applications/$a"
wrong=${P1%?}$([ "${P1: -1}" = 0 ] && echo 1 || echo 0)
expect 401 unauthenticated "$wrong" GET "/v1/employer-applications/$a"
w1=$(jq -r .detail <<<"$BODY")
expect 401 unauthenticated "hc_nobody-${HC_TEST_RUN}_${P1##*_}" GET "/v1/employer-applications/$a"
assert_eq "$(jq -r .detail <<<"$BODY")" "$w1" "unknown client and wrong secret say the same"

note "roles: each route admits only its roles"
expect 403 forbidden "$P1" GET "/v1/counties/420102/queue"
expect 403 forbidden "$P1" POST "/v1/queue-items/$a/decision" '{"decision":"approve","opinion":"同意","reviewer":"x"}'
expect 403 forbidden "$PROV" POST "/v1/queue-items/$a/decision" '{"decision":"approve","opinion":"同意","reviewer":"x"}'
expect 403 forbidden "$CHK" GET "/v1/employer-applications/$a"
expect 403 forbidden "$C102" POST "/v1/employer-applications" "$(application_json "authz-c-$HC_TEST_RUN" 420102 1 72)"
expect 200 - "$PROV" GET "/v1/employer-applications/$a"

note "county systems act only for their county"
expect 200 - "$C102" GET "/v1/counties/420102/queue?limit=1"
expect 403 forbidden "$C103" GET "/v1/counties/420102/queue"
expect 200 - "$C102" GET "/v1/employer-applications/$a"
expect 404 not-found "$C103" GET "/v1/employer-applications/$a"
expect 404 not-found "$C103" GET "/v1/queue-items/$a"
expect 404 not-found "$C103" POST "/v1/queue-items/$a/decision" '{"decision":"reject","opinion":"越权","reviewer":"x"}'
expect 200 - "$C102" GET "/v1/queue-items/$a"
assert_eq "$(jq -r .status <<<"$BODY")" pending "untouched by the other county"

note "a caller cannot pose as another principal with headers"
out=$(curl -sS -H "Authorization: Bearer $P2" -H 'X-HC-Role: provincial' -H 'X-HC-Client: x' -H 'X-HC-County: 420102' \
	"$GATEWAY/v1/employer-applications/$a" -w '\n%{http_code}')
assert_eq "${out##*$'\n'}" 404 "forged principal headers"

note "200 cross-tenant reads, all refused"
for ((i = 0; i < 200; i++)); do
	[ "$i" -gt 0 ] && echo next
	printf 'url = "%s/v1/employer-applications/%s"\nheader = "Authorization: Bearer %s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$GATEWAY" "$a" "$P2"
done >"$HC_TEST_TMP/xt.cfg"
assert_eq "$(curl -sS --parallel --parallel-max 4 -K "$HC_TEST_TMP/xt.cfg" | sort | uniq -c | xargs)" "200 404" "cross-tenant answers"

note "a revoked key stops working at once, though the gateway keeps its clients in a cache"
expect 200 - "$P1" GET "/v1/employer-applications/$a"
hits=$(curl -fsS "$GATEWAY/metrics" | sed -n 's/^hc_cache_hits_total{cache="clients"} //p')
[ "${hits:-0}" -gt 0 ] || fail "the clients cache answered no lookup (hits: ${hits:-none})"
HC_DATABASE_URL="$(hc_db_url gateway "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
	"$HC_BUILD/bin/hc-gateway" client revoke "p1-$HC_TEST_RUN" >/dev/null 2>>"$HC_TEST_TMP/gateway-admin.log"
expect 401 unauthenticated "$P1" GET "/v1/employer-applications/$a"
assert_eq "$(jq -r .detail <<<"$BODY")" "$w1" "revoked says the same"
echo passed
