#!/usr/bin/env bash
# Signed requests (RFC 9421 profile, docs/API.md) with API keys off, as in
# production: a request signed with a registered P-256 or RSA-2048 key is
# served and its response is signed by the platform (hc-client checks it);
# missing, garbled, unknown key, wrong key, body changed by one byte,
# timestamp 301 s in the past or the future, and a replayed nonce are each
# refused with their own code (299 s either way is accepted); 10,000 replays
# of a captured request are all refused and create nothing.
. "$(dirname "$0")/lib.sh"

svc_start intake
svc_start matching
svc_start gateway HC_GATEWAY_API_KEYS=0
KEY=$(gw_client signer partner)
admin() { HC_DATABASE_URL="$(hc_db_url gateway "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" "$HC_BUILD/bin/hc-gateway" "$@"; }
k=$HC_TEST_TMP/keys
mkdir -p "$k"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/p256.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$k/other.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k/rsa.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$k/rsa1024.pem" 2>/dev/null
client="signer-$HC_TEST_RUN"
admin client key "$client" k1 "$k/p256.pem" >/dev/null || fail "could not register a P-256 key"
admin client key "$client" rsa "$k/rsa.pem" >/dev/null || fail "could not register an RSA-2048 key"
admin client key "$client" weak "$k/rsa1024.pem" >/dev/null 2>&1 && fail "an RSA-1024 key was registered"
http GET "$GATEWAY/.well-known/hc-response-key"
assert_eq "$STATUS" 200 "the response key is published"
PLATFORM=$(jq -r .spki_der_hex <<<"$BODY")

# call KEYID KEYFILE [hc-client args...] PATH: sets STATUS, BODY and RC (hc-client's exit status)
call() {
	local id=$1 key=$2 out
	shift 2
	set +e
	out=$("$HC_BUILD/bin/hc-client" --base "$GATEWAY" --keyid "$id" --key "$key" --platform-key "$PLATFORM" --status "$@" 2>"$HC_TEST_TMP/hc-client.err")
	RC=$?
	set -e
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}
refused() { # refused CODE WHAT
	assert_eq "$STATUS" 401 "$2: status"
	assert_eq "$(jq -r .code <<<"$BODY")" "$1" "$2: problem code"
}

note "signed requests are served, and the responses verify"
call "$client:k1" "$k/p256.pem" /v1/rules
assert_eq "$STATUS" 403 "a partner may not read the rules (but it is authenticated)"
assert_eq "$RC" 1 "hc-client: a verified non-2xx answer"
body=$(declaration_json "$(person_id signed)" 420102)
call "$client:k1" "$k/p256.pem" -d "$body" /v1/declarations
assert_eq "$STATUS" 201 "a signed declaration"
assert_eq "$RC" 0 "hc-client verified the platform's signature"
decl=$(jq -r .id <<<"$BODY")
call "$client:k1" "$k/p256.pem" "/v1/declarations/$decl"
assert_eq "$STATUS" 200 "a signed GET"
call "$client:rsa" "$k/rsa.pem" "/v1/declarations/$decl"
assert_eq "$STATUS" 200 "signed with RSA-2048"
set +e
"$HC_BUILD/bin/hc-client" --base "$GATEWAY" --keyid "$client:k1" --key "$k/p256.pem" \
	--platform-key "$(openssl pkey -in "$k/other.pem" -pubout -outform DER | od -An -tx1 -v | tr -d ' \n')" \
	"/v1/declarations/$decl" >/dev/null 2>&1
rc=$?
set -e
assert_eq "$rc" 2 "a response checked against the wrong platform key is reported forged"

note "refusals, each with its own code"
http GET "$GATEWAY/v1/declarations/$decl" # no credentials at all
refused signature-missing "nothing"
AUTH=$KEY http GET "$GATEWAY/v1/declarations/$decl"
refused signature-missing "an API key while keys are off"
call "$client:k1" "$k/p256.pem" --unsigned "/v1/declarations/$decl"
refused signature-missing "unsigned"
call "$client:k1" "$k/p256.pem" --garble "/v1/declarations/$decl"
refused signature-malformed "garbled"
call "$client:nokey" "$k/p256.pem" "/v1/declarations/$decl"
refused signature-key-unknown "an unknown kid"
call "nobody-$HC_TEST_RUN:k1" "$k/p256.pem" "/v1/declarations/$decl"
refused signature-key-unknown "an unknown client"
call "$client:k1" "$k/other.pem" "/v1/declarations/$decl"
refused signature-invalid "the wrong key"
call "$client:rsa" "$k/p256.pem" "/v1/declarations/$decl"
refused signature-invalid "a P-256 signature under an RSA kid"
call "$client:k1" "$k/p256.pem" --tamper-body -d "$(declaration_json "$(person_id tampered)" 420102)" /v1/declarations
refused signature-digest "the body changed by one byte"
for s in -301 301; do
	call "$client:k1" "$k/p256.pem" --skew "$s" "/v1/declarations/$decl"
	refused signature-timestamp "created ${s} s off"
done
for s in -299 299; do
	call "$client:k1" "$k/p256.pem" --skew "$s" "/v1/declarations/$decl"
	assert_eq "$STATUS" 200 "created ${s} s off is accepted"
done
nonce="n$HC_TEST_RUN-fixed-0001"
call "$client:k1" "$k/p256.pem" --nonce "$nonce" "/v1/declarations/$decl"
assert_eq "$STATUS" 200 "a nonce's first use"
call "$client:k1" "$k/p256.pem" --nonce "$nonce" "/v1/declarations/$decl"
refused signature-replayed "the nonce again"

note "the load generator signs too: 100 signed reads in 2 s, all served"
out=$("$HC_BUILD/tests/hc-load" -r 50 -d 2 -c 4 -i "$client:k1" -k "$k/p256.pem" "$GATEWAY/v1/declarations/$decl")
note "hc-load: $out"
assert_eq "$(tr ' ' '\n' <<<"$out" | grep -E '^(ok|non2xx|errors)=' | xargs)" "ok=100 non2xx=0 errors=0" "signed load"

note "and counts the other answers by status: 20 unsigned reads, all 401"
out=$("$HC_BUILD/tests/hc-load" -r 20 -d 1 -c 4 "$GATEWAY/v1/declarations/$decl")
assert_eq "$(tr ' ' '\n' <<<"$out" | grep -E '^(ok|non2xx|statuses)=' | xargs)" "ok=0 non2xx=20 statuses=401:20" "unsigned load"

note "and signs a body per request: 20 signed declarations of 20 people, each stored once"
for ((i = 0; i < 20; i++)); do declaration_json "$(person_id "load$i")" 420102 | jq -c .; done >"$HC_TEST_TMP/bodies.ndjson"
before=$(sql "SELECT count(*) FROM intake.declarations")
out=$("$HC_BUILD/tests/hc-load" -r 20 -d 1 -c 4 -m POST -B "$HC_TEST_TMP/bodies.ndjson" -i "$client:k1" -k "$k/p256.pem" "$GATEWAY/v1/declarations")
note "hc-load: $out"
assert_eq "$(tr ' ' '\n' <<<"$out" | grep -E '^(ok|non2xx|errors)=' | xargs)" "ok=20 non2xx=0 errors=0" "signed load with a body each"
assert_eq "$(sql "SELECT count(*) FROM intake.declarations")" "$((before + 20))" "declarations stored by the signed load"

# copies CFG N: a curl -K file sending the saved request N times, printing each status
copies() {
	local i
	for ((i = 0; i < $2; i++)); do
		cat "$1"
		echo 'output = "/dev/null"'
		echo 'write-out = "%{http_code}\n"'
		[ "$i" -lt $(($2 - 1)) ] && echo next
	done
	return 0
}

note "10,000 replays of a captured request: none accepted, nothing created"
call "$client:k1" "$k/p256.pem" --save-request "$HC_TEST_TMP/captured.cfg" \
	-d "$(declaration_json "$(person_id captured)" 420102)" /v1/declarations
assert_eq "$STATUS" 201 "the captured request itself"
before=$(sql "SELECT count(*) FROM intake.declarations")
copies "$HC_TEST_TMP/captured.cfg" 10000 >"$HC_TEST_TMP/replays.cfg"
curl -sS --parallel --parallel-max 8 -K "$HC_TEST_TMP/replays.cfg" >"$HC_TEST_TMP/replays.txt"
assert_eq "$(wc -l <"$HC_TEST_TMP/replays.txt")" 10000 "replays sent"
assert_eq "$(sort "$HC_TEST_TMP/replays.txt" | uniq -c | xargs)" "10000 401" "every replay refused"
assert_eq "$(sql "SELECT count(*) FROM intake.declarations")" "$before" "declarations created by the replays"
note "10000 of 10000 replays refused"

note "one signed request sent 16 times at once (its nonce claimed in batches): one accepted"
# signed and saved without being sent (nothing listens on port 1), then sent to the gateway
"$HC_BUILD/bin/hc-client" --base http://127.0.0.1:1 --keyid "$client:k1" --key "$k/p256.pem" \
	--save-request "$HC_TEST_TMP/twin.cfg" -d "$(declaration_json "$(person_id twin)" 420102)" \
	/v1/declarations >/dev/null 2>&1 && fail "a request to port 1 was answered"
sed -i "s#^url = \"[^/]*//[^/]*#url = \"$GATEWAY#" "$HC_TEST_TMP/twin.cfg"
grep -q "^url = \"$GATEWAY/v1/declarations\"" "$HC_TEST_TMP/twin.cfg" || fail "the saved request's URL"
before=$(sql "SELECT count(*) FROM intake.declarations")
copies "$HC_TEST_TMP/twin.cfg" 16 >"$HC_TEST_TMP/twins.cfg"
curl -sS --parallel --parallel-immediate --parallel-max 16 -K "$HC_TEST_TMP/twins.cfg" >"$HC_TEST_TMP/twins.txt"
assert_eq "$(sort "$HC_TEST_TMP/twins.txt" | uniq -c | xargs)" "1 201 15 401" "16 copies of one signed request"
assert_eq "$(sql "SELECT count(*) FROM intake.declarations")" "$((before + 1))" "declarations created by the copies"

note "a client past its quota is refused before its signature is checked"
over="over-$HC_TEST_RUN"
gw_client over partner >/dev/null
admin client key "$over" k1 "$k/p256.pem" >/dev/null || fail "could not register the key"
gw_quota over 1 2 # 1/s, burst 2
admitted=0
for ((i = 0; i < 6; i++)); do
	call "$over:k1" "$k/p256.pem" "/v1/declarations/$decl"
	[ "$STATUS" = 429 ] && break
	assert_eq "$STATUS" 404 "a request within the quota (another partner's declaration)"
	admitted=$((admitted + 1))
done
assert_eq "$STATUS" 429 "past the quota"
[ "$admitted" -ge 2 ] && [ "$admitted" -le 4 ] || fail "$admitted admitted before the 429 (burst 2)"
call "$over:k1" "$k/other.pem" "/v1/declarations/$decl"
assert_eq "$STATUS" 429 "a wrong signature while the bucket is empty: 429, not signature-invalid"
assert_eq "$(jq -r .code <<<"$BODY")" rate-limited "its problem code"
assert_eq "$RC" 2 "hc-client: the early refusal is not signed"
nonce="n$HC_TEST_RUN-quota-0001"
call "$over:k1" "$k/p256.pem" --nonce "$nonce" "/v1/declarations/$decl"
assert_eq "$STATUS" 429 "a good signature while the bucket is empty"
spent=$(sql "SELECT count(*) FROM gateway.request_nonces WHERE client = '$over' AND nonce = '$nonce'")
assert_eq "$spent" 0 "the refused request's nonce is not written"
sleep 2
call "$over:k1" "$k/p256.pem" --nonce "$nonce" "/v1/declarations/$decl"
assert_eq "$STATUS" 404 "the same nonce once the bucket refilled (it was never spent)"
call "$over:k1" "$k/p256.pem" --nonce "$nonce" "/v1/declarations/$decl"
refused signature-replayed "and it is spent now"
