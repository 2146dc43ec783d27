#!/usr/bin/env bash
# Quotas and overload at the gateway.  A client past its quota gets 429 with
# Retry-After and RateLimit headers within a second of crossing it, while
# another client is unaffected.  When an owning service hangs (SIGSTOP),
# ordinary requests beyond their share of the workers are refused at once
# (503 overloaded) instead of queueing, and code display still answers;
# the admitted ones are answered once the service resumes.  The admission
# limit then adapts: down after the crowded, slow window, back up after fast
# ones.
. "$(dirname "$0")/lib.sh"

for s in intake review matching certificate codegen; do svc_start "$s"; done
svc_start gateway HC_GATEWAY_MAX_INFLIGHT=8 # ordinary routes: 6 at once
SLOW=$(gw_client slow provincial)
FAST=$(gw_client fast provincial)
ONE=$(gw_client one provincial)
gw_quota slow 2 10 # slow enough that 40 requests cross it even on a sanitizer build
gw_quota one 1 1   # one request, then one a second

# req KEY PATH: GET through the gateway; sets STATUS, BODY and HEADERS.
req() {
	HEADERS=$(curl -sS -o "$HC_TEST_TMP/q-body" -D - -H "Authorization: Bearer $1" "$GATEWAY$2" | tr -d '\r')
	STATUS=$(awk 'NR == 1 {print $2}' <<<"$HEADERS")
	BODY=$(cat "$HC_TEST_TMP/q-body")
}
hdr() { awk -v n="$(tr 'A-Z' 'a-z' <<<"$1"):" 'tolower($1) == n {print $2}' <<<"$HEADERS"; }

note "every answer carries the client's RateLimit headers"
req "$FAST" /v1/rules
assert_eq "$STATUS" 200 "rules"
assert_eq "$(hdr RateLimit-Limit)" 1000 "the default burst"
[ "$(hdr RateLimit-Remaining)" -ge 990 ] || fail "remaining: $(hdr RateLimit-Remaining)"

note "a client over its quota (2/s, burst 10) gets 429 at once; another does not"
t0=$(date +%s%N)
ok=0 first_429=
for ((i = 0; i < 40; i++)); do
	req "$SLOW" /v1/rules
	if [ "$STATUS" = 429 ]; then
		[ -n "$first_429" ] || { first_429=$(( ($(date +%s%N) - t0) / 1000000 )); headers_429=$HEADERS; body_429=$BODY; }
	else
		assert_eq "$STATUS" 200 "an admitted request"
		[ -n "$first_429" ] || ok=$((ok + 1))
	fi
	req "$FAST" /v1/rules
	assert_eq "$STATUS" 200 "the other client, request $i"
done
[ -n "$first_429" ] || fail "40 requests at full speed were never refused"
# admitted before the first refusal: the burst plus what refilled meanwhile
allowed=$((10 + (2 * first_429 + 999) / 1000 + 1))
[ "$ok" -ge 10 ] && [ "$ok" -le "$allowed" ] || fail "$ok admitted before the first 429 after ${first_429} ms (10..$allowed)"
note "$ok admitted, then 429 after ${first_429} ms"
HEADERS=$headers_429
assert_eq "$(jq -r .code <<<"$body_429")" rate-limited "problem code"
assert_eq "$(jq -r .status <<<"$body_429")" 429 "problem status"
assert_eq "$(hdr RateLimit-Limit)" 10 "the client's own burst"
assert_eq "$(hdr RateLimit-Remaining)" 0 "nothing left"
retry=$(hdr Retry-After)
[ "$retry" -ge 1 ] && [ "$retry" -le 2 ] || fail "Retry-After: '$retry'"
sleep "$retry"
req "$SLOW" /v1/rules
assert_eq "$STATUS" 200 "admitted again after Retry-After"

note "a hanging service: ordinary requests past their share are refused at once"
AUTH=$FAST http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id shown)" 420102)"
assert_eq "$STATUS" 201 "declaration"
key=$(jq -r .person_key <<<"$BODY")
wait_for "a code" 60 code_is "$key" '.colour == "green"'
kill -STOP "$(cat "$HC_TEST_TMP/matching.pid")"
for ((i = 0; i < 12; i++)); do
	curl -sS -o "$HC_TEST_TMP/hang-$i.json" -w '%{http_code} %{time_total}\n' --max-time 20 \
		-H "Authorization: Bearer $FAST" "$GATEWAY/v1/rules" >"$HC_TEST_TMP/hang-$i.txt" 2>&1 &
	echo $! >"$HC_TEST_TMP/hang-$i.pid"
done
sleep 1.5
refused=0
for ((i = 0; i < 12; i++)); do
	read -r st secs <"$HC_TEST_TMP/hang-$i.txt" 2>/dev/null || continue
	[ "$st" = 503 ] || continue
	assert_eq "$(jq -r .code "$HC_TEST_TMP/hang-$i.json")" overloaded "shed request's problem code"
	awk -v s="$secs" 'BEGIN {exit !(s < 0.5)}' || fail "a refusal took ${secs}s"
	refused=$((refused + 1))
done
note "$refused of 12 refused at once while matching hangs"
assert_eq "$refused" 6 "refused beyond the ordinary share (6 of 8)"
t0=$(date +%s%N)
AUTH=$FAST http GET "$GATEWAY/v1/codes/$key"
assert_eq "$STATUS" 200 "code display while matching hangs"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 1000 ] || fail "code display took $ms ms"
note "at capacity, a client past its quota gets its own 429, not the overload's 503"
AUTH=$ONE http GET "$GATEWAY/v1/codes/$key" # code display keeps its quarter: takes ONE's only token
assert_eq "$STATUS" 200 "the client's one request a second"
AUTH=$ONE http GET "$GATEWAY/v1/rules"
assert_eq "$STATUS" 429 "an ordinary request past the quota while ordinary routes are full"
assert_eq "$(jq -r .code <<<"$BODY")" rate-limited "its problem code"
shed=$(curl -fsS "$GATEWAY/metrics" | awk '/^hc_gateway_shed_total\{route="ordinary"\}/ {print $2}')
[ "$shed" -ge "$refused" ] || fail "shed counter $shed < $refused"
# demand past the limit: more ordinary requests, all refused, before the held ones are answered
for ((i = 0; i < 8; i++)); do
	curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $FAST" "$GATEWAY/v1/rules"
done >"$HC_TEST_TMP/more.txt"
assert_eq "$(sort -u "$HC_TEST_TMP/more.txt")" 503 "every further ordinary request refused"
# the window of these refusals lasts past one and a half tenths (the code displays above
# closed the one before), so that this window alone cuts the limit
sleep 0.2
kill -CONT "$(cat "$HC_TEST_TMP/matching.pid")"
for ((i = 0; i < 12; i++)); do wait "$(cat "$HC_TEST_TMP/hang-$i.pid")" 2>/dev/null || true; done
answered=$(cat "$HC_TEST_TMP"/hang-*.txt | awk '$1 == 200' | wc -l)
note "$answered answered once matching resumed"
assert_eq "$answered" 6 "the admitted requests answered once matching resumed"
AUTH=$FAST http GET "$GATEWAY/v1/rules"
assert_eq "$STATUS" 200 "ordinary routes served again"

# The admission limit adapts: the window in which requests were refused
# (more than one for every two admitted) and the admitted ones took seconds
# (matching hung) cut it by a quarter; full windows of fast answers bring it
# back to the maximum.
limit() { curl -fsS "$GATEWAY/metrics" | awk '/^hc_gateway_admission_limit / {print $2}'; }
fell=$(limit)
# 6: 8 less a quarter (the slow answers after the first close a window with no refusal)
assert_eq "$fell" 6 "the limit after a window of refusals and slow answers"
note "the limit fell to $fell; full windows of fast answers raise it again"
# rounds of 200 requests in 0.2 s over 16 connections (open loop): the share fills
for ((round = 0; round < 20 && $(limit) < 8; round++)); do
	"$HC_BUILD/tests/hc-load" -r 1000 -d 0.2 -c 16 -H "Authorization: Bearer $FAST" \
		"$GATEWAY/v1/rules" >"$HC_TEST_TMP/round.txt" || fail "hc-load failed"
done
assert_eq "$(limit)" 8 "the limit back at its maximum after $round rounds ($(cat "$HC_TEST_TMP/round.txt"))"


# Two gateways share a client's quota (HC_QUOTA_SYNC_MS, 200 ms): each takes
# what the other admitted out of its own bucket, so the pair admits about one
# quota, not two.
note "two gateways, one quota: a client's requests alternate between them"
port2=$((TEST_GATEWAY_PORT + 120))
svc_start_as gateway2 gateway "$port2"
TWO=$(gw_client two provincial)
gw_quota two 5 10
ok=0
t0=$(date +%s%N)
for ((i = 0; i < 80; i++)); do
	gw=$GATEWAY
	[ $((i % 2)) = 1 ] && gw=http://127.0.0.1:$port2
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TWO" "$gw/v1/rules")
	case $code in
	200) ok=$((ok + 1)) ;;
	429) ;;
	*) fail "request $i to $gw: $code" ;;
	esac
	sleep 0.05
done
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
# one quota: the burst (10) and 5 a second; two would admit about twice that. The
# allowance: what the other gateway admits within one sync before this one hears of it
one=$((10 + 5 * ms / 1000))
note "$ok of 80 admitted over $ms ms by the two (one quota: $one; a quota each: $((2 * one)))"
[ "$ok" -ge 10 ] && [ "$ok" -le $((one + 4)) ] || fail "$ok admitted: not one quota between the two gateways ($one)"
shared() { curl -fsS "$1/metrics" | awk '/^hc_gateway_quota_shared_total / {print $2}'; }
[ "$(shared "$GATEWAY")" -gt 0 ] && [ "$(shared "http://127.0.0.1:$port2")" -gt 0 ] ||
	fail "a gateway did not take the other's requests out of its buckets"
assert_eq "$(sql "SELECT count(*) FROM gateway.quota_usage WHERE client = 'two-$HC_TEST_RUN'")" 2 "a row of the client per gateway"
