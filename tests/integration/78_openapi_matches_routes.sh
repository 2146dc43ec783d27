#!/usr/bin/env bash
# The OpenAPI 3.1 document the gateway serves describes exactly its route
# table: every route with its owner, roles and priority, and no path that is
# not routed (checked both ways against `hc-gateway routes`); every path
# parameter is declared, every protected route names the signature scheme,
# every $ref resolves.
. "$(dirname "$0")/lib.sh"

svc_start gateway
http GET "$GATEWAY/openapi.json"
assert_eq "$STATUS" 200 "the document is served without a key"
doc=$BODY
assert_eq "$(jq -r .openapi <<<"$doc")" 3.1.0 "OpenAPI version"
assert_eq "$(jq -cS . <<<"$doc")" "$(jq -cS . proto/openapi.json)" "served document is proto/openapi.json"

# one line per operation: METHOD PATH OWNER ROLES(sorted)|public PRIORITY
jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[]
	| "\(.key | ascii_upcase) \($p) \(.value["x-hc-owner"]) \(if (.value["x-hc-roles"] | length) == 0 then "public"
	  else (.value["x-hc-roles"] | sort | join(",")) end) \(if .value["x-hc-priority"] then "priority" else "ordinary" end)"' \
	<<<"$doc" | sort >"$HC_TEST_TMP/documented.txt"
"$HC_BUILD/bin/hc-gateway" routes | awk '{n = split($4, r, ","); s = ""
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
	for (i = 1; i <= n; i++) s = s (i > 1 ? "," : "") r[i]
	print $1, $2, $3, s, $5}' | sort >"$HC_TEST_TMP/routed.txt"
[ "$(wc -l <"$HC_TEST_TMP/routed.txt")" -ge 29 ] || fail "the route table is too short"
if ! diff "$HC_TEST_TMP/routed.txt" "$HC_TEST_TMP/documented.txt" >"$HC_TEST_TMP/openapi.diff"; then
	echo "< routed only, > documented only:" >&2
	cat "$HC_TEST_TMP/openapi.diff" >&2
	fail "the OpenAPI document and the route table differ"
fi
note "$(wc -l <"$HC_TEST_TMP/routed.txt") routes documented, none extra"

note "path parameters, security, operation ids and references"
missing=$(jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[] | .value as $op
	| ($p | [scan("\\{([^}]+)\\}")[0]]) - [($op.parameters // [])[] | select(.in == "path") | .name] | .[]
	| "\($p): \(.)"' <<<"$doc")
assert_eq "$missing" "" "undeclared path parameters"
unsecured=$(jq -r '.paths | to_entries[] | .key as $p | .value | to_entries[]
	| select((.value["x-hc-roles"] | length) > 0 and (.value.security != [{"httpSignature": []}, {"apiKey": []}])) | "\(.key) \($p)"' <<<"$doc")
assert_eq "$unsecured" "" "protected routes without the signature scheme"
assert_eq "$(jq '[.paths[][] | .operationId] | length == (unique | length)' <<<"$doc")" true "operation ids are unique"
dangling=$(jq -r '. as $d | [.. | objects | select(has("$ref")) | .["$ref"]] | unique[]
	| select(startswith("#/") | not) // select(. as $r | ($r[2:] | split("/")) as $path | $d | getpath($path) == null)' <<<"$doc")
assert_eq "$dangling" "" "unresolved \$ref"
