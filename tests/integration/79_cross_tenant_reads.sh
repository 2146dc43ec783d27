#!/usr/bin/env bash
# Cross-tenant reads: 1,000 reads by one partner app of another partner's
# people (code, history, token, QR, certificates, for 10 people) are all
# refused, and each answer is exactly the answer for a person who does not
# exist, so a refusal reveals nothing.
. "$(dirname "$0")/lib.sh"

start_platform
OWNER=$(gw_client owner partner)
OTHER=$(gw_client other partner)
keys=()
for ((i = 0; i < 10; i++)); do
	AUTH=$OWNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id "p$i")" 420102)"
	assert_eq "$STATUS" 201 "declaration $i"
	keys+=("$(jq -r .person_key <<<"$BODY")")
done
for k in "${keys[@]}"; do wait_for "a code" 60 code_is "$k" '.colour == "green"'; done
AUTH=$OWNER http GET "$GATEWAY/v1/codes/${keys[0]}"
assert_eq "$STATUS" 200 "the owner reads its person's code"

absent=$(printf '%064d' 7 | tr 0 a)
routes=(/v1/codes/KEY /v1/codes/KEY/history /v1/codes/KEY/token /v1/codes/KEY/qr.png /v1/people/KEY/certificates)
# answer OUT KEY ROUTE: the answer (status and body, trace and key blanked) to the other partner
answer() {
	local path=${3//KEY/$2}
	curl -sS -H "Authorization: Bearer $OTHER" -w '\n%{http_code}' "$GATEWAY$path" |
		sed "s/$2/KEY/g; s/\"trace_id\":\"[0-9a-f]*\"/\"trace_id\":\"\"/" >"$1"
}
for r in "${routes[@]}"; do
	answer "$HC_TEST_TMP/absent.txt" "$absent" "$r"
	assert_eq "$(tail -1 "$HC_TEST_TMP/absent.txt")" 404 "$r for nobody"
	cp "$HC_TEST_TMP/absent.txt" "$HC_TEST_TMP/absent-${r//\//_}.txt"
done
refused=0
for ((n = 0; n < 1000; n++)); do
	k=${keys[n % 10]} r=${routes[(n / 10) % 5]}
	answer "$HC_TEST_TMP/read.txt" "$k" "$r"
	cmp -s "$HC_TEST_TMP/read.txt" "$HC_TEST_TMP/absent-${r//\//_}.txt" ||
		fail "read $n ($r of person $((n % 10))) differs from a missing person's: $(head -c 300 "$HC_TEST_TMP/read.txt")"
	refused=$((refused + 1))
done
assert_eq "$refused" 1000 "refused reads"
note "1000 of 1000 cross-tenant reads refused, each indistinguishable from a missing person"
