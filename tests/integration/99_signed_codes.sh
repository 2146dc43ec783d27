#!/usr/bin/env bash
# Signed codes (COSE_Sign1 CWT, ES256, base45, QR):
#   - 1,000 random tokens, the largest first, drawn as QR PNGs, read back by
#     an independent reader (zbarimg) and verified offline by hc-verify;
#   - through the gateway: a fresh token and QR per fetch, online
#     verification recording the scan, public JWKS and signed key list, the
#     offline check against that list;
#   - refusals, each with its own code: prefix, base45, structure, unknown
#     kid (a token signed by a key not in the list), superseded (the code
#     changed), revoked kid, expired;
#   - rotation: tokens signed before it verify until they expire; after a
#     revoke they do not, online or offline.
. "$(dirname "$0")/lib.sh"

note "QR round trip of 1,000 tokens"
dir=$HC_TEST_TMP/qr
mkdir -p "$dir"
"$HC_BUILD/tests/token_corpus" "$dir" 1000
zbarimg --raw -q -Sdisable -Sqrcode.enable "$dir"/*.png >"$dir/decoded.txt" 2>/dev/null
assert_eq "$(wc -l <"$dir/decoded.txt")" 1000 "QR codes read"
diff <(sort "$dir/tokens.txt") <(sort "$dir/decoded.txt") >/dev/null || fail "a QR code read back differs from its token"
longest=$(awk '{print length}' "$dir/tokens.txt" | sort -n | tail -1)
[ "$longest" -le 240 ] || fail "the largest token has $longest characters"
note "largest token: $longest characters"
while read -r t; do
	set +e
	"$HC_BUILD/bin/hc-verify" --keys "$dir/keys.cose" --root "$dir/root.pem" "$t" >/dev/null
	rc=$?
	set -e
	[ "$rc" -le 1 ] || fail "hc-verify refused a token read from its QR (exit $rc)"
done <"$dir/decoded.txt"

start_platform
PARTNER=$(gw_client sc-partner partner)
CHECKPOINT=$(gw_client sc-checkpoint checkpoint)
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id holder)" 420106)"
key=$(jq -r .person_key <<<"$BODY")
wait_for "a green code" 30 code_is "$key" '.colour == "green"'
codegen_cmd() {
	HC_DATABASE_URL="$(hc_db_url codegen "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		"$HC_BUILD/bin/hc-codegen" "$@" 2>>"$HC_TEST_TMP/codegen-admin.log"
}
token() { AUTH=$PARTNER http GET "$GATEWAY/v1/codes/$key/token"; assert_eq "$STATUS" 200 "token"; jq -r .token <<<"$BODY"; }
verify() { # verify TOKEN -> STATUS, BODY
	AUTH=$CHECKPOINT http POST "$GATEWAY/v1/verifications" "$(jq -nc --arg t "$1" '{token:$t, checkpoint_id:"gate-9", temperature:36.6}')"
}
offline() { # offline TOKEN -> the exit status of hc-verify
	curl -fsS -o "$HC_TEST_TMP/list.cose" "$GATEWAY/v1/keys/signed-list"
	set +e
	"$HC_BUILD/bin/hc-verify" --keys "$HC_TEST_TMP/list.cose" --root "$HC_TEST_TMP/root.pem" "$1" >"$HC_TEST_TMP/offline.out"
	echo $?
	set -e
}
codegen_cmd keys root >"$HC_TEST_TMP/root.pem"

note "online: a fresh token, its QR, verification, the scan recorded"
a=$(token)
scans=$(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$key'")
verify "$a"
assert_eq "$STATUS" 200 "verification"
assert_eq "$(jq -c 'keys' <<<"$BODY")" '["colour","expires_at","masked_name","reason","result","scan_id","scanned_at","updated_at"]' "the answer's fields"
assert_eq "$(jq -r '.result + " " + .colour' <<<"$BODY")" "passed green" "verification result"
assert_eq "$(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$key'")" $((scans + 1)) "scans recorded"
scan_id=$(jq -r .scan_id <<<"$BODY")
code_now=$(curl -fsS "$CODEGEN/v1/codes/$key")
assert_eq "$(jq -r .updated_at <<<"$BODY")" "$(jq -r .updated_at <<<"$code_now")" "the answer's update time (the code version's)"
assert_eq "$(jq -r .masked_name <<<"$BODY")" "$(jq -r .masked_name <<<"$code_now")" "the answer's masked name"
assert_eq "$(sql "SELECT checkpoint_id || ' ' || temperature || ' ' || result || ' ' || coalesce(reason, '-') || ' ' || code_version || ' ' || scanned_by
                  FROM codegen.scans WHERE id = '$scan_id'")" "gate-9 36.6 passed - $(jq -r .version <<<"$code_now") sc-checkpoint-$HC_TEST_RUN" "the scan's row"
scan_event() { records_of hc.codegen.scan.v1 "$key" | jq -c --arg id "$scan_id" 'select(.data.scan_id == $id) | .data'; }
scan_published() { [ -n "$(scan_event)" ]; }
wait_for "the scan's event" 30 scan_published
assert_eq "$(scan_event | jq -c '[.checkpoint_id, .county_code, .colour, .fever, .result, .reason, .code_version, .scanned_at == $at]' --arg at "$(jq -r .scanned_at <<<"$BODY")")" \
	"[\"gate-9\",\"$(jq -r .county_code <<<"$code_now")\",\"green\",false,\"passed\",null,$(jq -r .version <<<"$code_now"),true]" "the scan's event"
note "a verification retried with its Idempotency-Key (as the gateway forwards it after a 504) is recorded once"
vbody=$(jq -nc --arg t "$a" '{token:$t, checkpoint_id:"gate-9", temperature:36.6}')
vpost() {
	curl -sS -D "$HC_TEST_TMP/vheaders" -H 'Content-Type: application/json' -H "X-HC-Client: gate-9-app" \
		-H "Idempotency-Key: v-$HC_TEST_RUN" --data-binary "$vbody" "$CODEGEN/v1/verifications"
}
v1=$(vpost)
v2=$(vpost)
assert_eq "$(jq -r .result <<<"$v1")" passed "the first keyed verification"
assert_eq "$v2" "$v1" "the retry's answer (the first, scan id included)"
tr -d '\r' <"$HC_TEST_TMP/vheaders" | grep -qi '^Idempotent-Replayed: true' || fail "the retry is not marked as replayed"
assert_eq "$(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$key'")" $((scans + 2)) "scans recorded after the keyed retry"
note "a verification whose answer cannot be kept records no scan; its retry then records one"
sql "CREATE FUNCTION codegen.idem_keep_fails() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'the answer cannot be kept'; END\$\$;
     CREATE TRIGGER idem_keep_fails BEFORE UPDATE ON codegen.request_keys FOR EACH ROW
     WHEN (NEW.key LIKE 'vfail-%') EXECUTE FUNCTION codegen.idem_keep_fails()" >/dev/null
vfail() {
	curl -sS -o "$HC_TEST_TMP/vfail.json" -w '%{http_code}' -H 'Content-Type: application/json' -H "X-HC-Client: gate-9-app" \
		-H "Idempotency-Key: vfail-$HC_TEST_RUN" --data-binary "$vbody" "$CODEGEN/v1/verifications"
}
assert_eq "$(vfail)" 500 "a keyed verification whose answer cannot be kept"
sql "DROP TRIGGER idem_keep_fails ON codegen.request_keys; DROP FUNCTION codegen.idem_keep_fails()" >/dev/null
assert_eq "$(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$key'")" $((scans + 2)) "scans recorded by it"
assert_eq "$(vfail)" 200 "its retry"
assert_eq "$(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$key'")" $((scans + 3)) "scans recorded by the retry"
assert_eq "$(sql "SELECT status FROM codegen.request_keys WHERE key = 'vfail-$HC_TEST_RUN'")" 200 "the answer kept with the scan"
AUTH=$PARTNER curl -fsS -H "Authorization: Bearer $PARTNER" -o "$HC_TEST_TMP/code.png" "$GATEWAY/v1/codes/$key/qr.png"
read_back=$(zbarimg --raw -q -Sdisable -Sqrcode.enable "$HC_TEST_TMP/code.png" 2>/dev/null)
[ "$read_back" != "$a" ] || fail "a QR fetch reused a token"
verify "$read_back"
assert_eq "$STATUS" 200 "the token read from the QR"
curl -fsS -H "Authorization: Bearer $PARTNER" "$GATEWAY/v1/codes/$key/qr.svg" | holds '^<svg' || fail "svg"
assert_eq "$(curl -fsS "$GATEWAY/.well-known/jwks.json" | jq -r '.keys[0] | .kty + " " + .crv + " " + .alg')" "EC P-256 ES256" "JWKS without a key"
assert_eq "$(offline "$a")" 0 "offline verification"

note "a scan the database refuses in a group commit fails its own verification only"
b=$(token)
for i in $(seq 0 10); do
	gate=gate-9
	[ "$i" = 5 ] && gate=gate-refused # refused by the constraint below
	jq -nc --arg t "$b" --arg g "$gate" '{token:$t, checkpoint_id:$g, temperature:36.6}' >"$HC_TEST_TMP/mixed-$i.json"
done
post_with_refusal codegen.scans "checkpoint_id <> 'gate-refused'" "$GATEWAY/v1/verifications" "$CHECKPOINT" \
	"$CODEGEN/metrics" hc_verify_waiting
grep -q 'verifications failed.*writing each alone' "$HC_TEST_TMP/codegen.log" || fail "the refused scan was never in a batch with others"
assert_eq "$(jq -r .status "$HC_TEST_TMP/mixed-5.out")" 500 "the refused scan's verification"
assert_eq "$(tr ' ' '\n' <"$HC_TEST_TMP/mixed.codes" | grep -c '^200$')" 9 "the verifications batched with it"
ids_sql=$(jq -r 'select(.scan_id) | .scan_id' "$HC_TEST_TMP"/mixed-*.out | sed "s/.*/'&'/" | paste -sd,)
assert_eq "$(sql "SELECT count(*) FROM codegen.scans WHERE id IN ($ids_sql)")" 9 "the other scans recorded"

note "refusals, each with its own code"
refused() { # refused TOKEN STATUS CODE (tokens hold spaces: base45 has one)
	verify "$1"
	assert_eq "$STATUS $(jq -r .code <<<"$BODY") $(jq -r .field <<<"$BODY")" "$2 $3 token" "refusal of ${1:0:12}"
}
refused "HC2:ABC" 400 token-prefix
refused "HC1:abc" 400 token-base45
refused "HC1:BB8" 400 token-cbor
refused "$(head -1 "$dir/tokens.txt")" 422 token-kid-unknown

note "superseded: the code changes after the token was issued"
old=$(token)
AUTH=$CHECKPOINT http POST "$GATEWAY/v1/scans" "{\"checkpoint_id\":\"gate-9\",\"person_key\":\"$key\",\"temperature\":38.4}"
wait_for "yellow after the fever" 30 code_is "$key" '.colour == "yellow"'
refused "$old" 422 token-superseded

note "rotation: old tokens verify until they expire; after a revoke they do not"
before=$(token)
codegen_cmd keys rotate >/dev/null
sleep 1.2
after=$(token)
assert_eq "$(curl -fsS "$GATEWAY/.well-known/jwks.json" | jq '.keys | length')" 2 "keys published"
verify "$before"
assert_eq "$STATUS" 200 "a token signed before the rotation"
assert_eq "$(offline "$before")" 1 "offline, before the revoke (valid, yellow)"
retired=$(codegen_cmd keys list | jq -r '[.[] | select(.purpose == "code" and .not_after != null)][0].kid')
codegen_cmd keys revoke "$retired" >/dev/null
sleep 1.2
refused "$before" 422 token-kid-revoked
verify "$after"
assert_eq "$STATUS" 200 "a token of the new key"
assert_eq "$(offline "$before")" 2 "offline, after the revoke"
grep -q token-kid-unknown "$HC_TEST_TMP/offline.out" || fail "offline reason: $(cat "$HC_TEST_TMP/offline.out")"

note "expiry"
svc_stop codegen
svc_start codegen HC_TOKEN_TTL_S=5
short=$(token)
sleep 6
refused "$short" 422 token-expired
echo passed
