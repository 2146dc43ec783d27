#!/usr/bin/env bash
# The HTTP benchmarks (run by tests/bench/run.sh inside a bench session).
#
# Closed-loop load with wrk (2 threads, 32 connections, 10 s each) on the
# 2-core machine, shared with the servers: figures are ratios against a
# baseline measured in the same run, never absolute claims.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/common.sh"

DUR=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
out=docs/BENCHMARKS.md
results=$HC_TEST_TMP/results.tsv
: >"$results"
val() { awk -F'\t' -v n="$1" -v c="$2" '$1 == n {print $c}' "$results"; }
# sl NAME KEY: a value of hc-load's line in $HC_TEST_TMP/load-NAME.txt
sl() { tr ' ' '\n' <"$HC_TEST_TMP/load-$1.txt" | sed -n "s/^$2=//p"; }

command -v wrk >/dev/null || deploy/local/install.sh bench

svc_start intake
svc_start review
svc_start gateway
KEY=$(gw_client bench provincial)
gw_quota bench 1000000 1000000 # the benchmark measures the path, not the quota

# bench NAME URL [wrk args...]: records requests/s, p50 and p99 latency.
bench() {
	local name=$1 url=$2 log=$HC_TEST_TMP/wrk-$1.txt rps p50 p99 non2xx
	shift 2
	wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "$@" "$url" >"$log" 2>&1 || fail "wrk failed for $name"
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$log")
	p50=$(awk '$1 == "50%" {print $2}' "$log")
	p99=$(awk '$1 == "99%" {print $2}' "$log")
	non2xx=$(awk '/Non-2xx/ {print $NF}' "$log")
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:-0}" >>"$results"
	note "$name: $rps req/s, p50 $p50, p99 $p99, non-2xx ${non2xx:-0}"
}

# signed NAME CLIENT RATE URL [hc-load args...]: the route signed by CLIENT (signing_client) as
# in production: each request's signature verified, its nonce recorded, its answer signed.  wrk
# cannot sign, so the saturation comes from an open-loop run offered 1.5x RATE (the unsigned
# route's saturation) for the benchmark's duration: the answers over the whole run, its queue
# drained; then an open loop at half of that.  Records NAME (the saturation) and keeps both
# runs' lines in $HC_TEST_TMP/load-NAME-sat.txt and load-NAME.txt.
signed() {
	local name=$1 client=$2 url=$4 over sat
	local -a sig=(-i "$client-$HC_TEST_RUN:k1" -k "$HC_TEST_TMP/$client.pem")
	over=$(awk -v r="$3" 'BEGIN {printf "%d", r * 1.5}')
	shift 4
	"$HC_BUILD/tests/hc-load" -r "$over" -d "$DUR" -c "$CONNS" "$@" "${sig[@]}" "$url" \
		>"$HC_TEST_TMP/load-$name-sat.txt" || fail "hc-load failed ($name, saturation)"
	note "$name, offered $over/s: $(cat "$HC_TEST_TMP/load-$name-sat.txt")"
	# the 2xx answers a second: the rate of all answers, times the 2xx share
	sat=$(awk -v r="$(sl "$name-sat" rate)" -v ok="$(sl "$name-sat" ok)" -v no="$(sl "$name-sat" non2xx)" \
		'BEGIN {printf "%.0f", (ok + no > 0 ? r * ok / (ok + no) : 0)}')
	[ "$sat" -gt 1 ] || fail "$name: no answers at saturation"
	printf '%s\t%s\t-\t-\t%s\n' "$name" "$sat" "$(sl "$name-sat" non2xx)" >>"$results"
	"$HC_BUILD/tests/hc-load" -r "$((sat / 2))" -d "$DUR" -c "$CONNS" "$@" "${sig[@]}" \
		${BENCH_TRACE_DIR:+-o "$BENCH_TRACE_DIR/$name.trace"} "$url" >"$HC_TEST_TMP/load-$name.txt" ||
		fail "hc-load failed ($name)"
	note "$name at $((sat / 2))/s: $(cat "$HC_TEST_TMP/load-$name.txt")"
}

if [ "${BENCH_ONLY:-}" != verify ]; then # BENCH_ONLY=verify: the verification part only, no docs
http POST "$INTAKE/v1/employer-applications" "$(application_json "bench-read" 420102 3 9)"
id=$(jq -r .id <<<"$BODY")
application_json "bench-write" 420103 3 12 >"$HC_TEST_TMP/body.json"
export BENCH_BODY=$HC_TEST_TMP/body.json

note "HTTP layer baseline: GET /livez on intake (no database)"
bench livez "$INTAKE/livez"
note "read: GET an application from intake directly, then through the gateway"
bench read_direct "$INTAKE/v1/employer-applications/$id"
bench read_gateway "$GATEWAY/v1/employer-applications/$id" -H "Authorization: Bearer $KEY"

note "write baseline: pgbench, one update + one insert per transaction, 8 clients"
tps=$(pgbench_tps "$DUR")
[ -n "$tps" ] || fail "pgbench gave no figure"
printf 'pgbench\t%s\t-\t-\t0\n' "$tps" >>"$results"
note "pgbench: $tps tx/s"

note "write: POST an application (3 workers: validation, sealing, one transaction with its outbox row)"
before=$(sql "SELECT count(*) FROM intake.employer_applications")
APP_CPU="intake review gateway Kafka PostgreSQL"
cpu_before=$(cpu_snapshot $APP_CPU)
bench write_direct "$INTAKE/v1/employer-applications" -s tests/bench/post.lua
bench write_gateway "$GATEWAY/v1/employer-applications" -s tests/bench/post.lua -H "Authorization: Bearer $KEY"
posted=$(( $(sql "SELECT count(*) FROM intake.employer_applications") - before ))

note "drain: time until review has queued every posted application"
t0=$(date +%s%N)
while [ "$(sql "SELECT count(*) FROM review.queue_items WHERE employer_name = 'bench-write'")" -lt "$posted" ]; do
	sleep 0.2
	[ $(( ($(date +%s%N) - t0) / 1000000000 )) -lt 300 ] || fail "review did not drain in 300 s"
done
drain_s=$(awk -v ns=$(( $(date +%s%N) - t0 )) 'BEGIN {printf "%.1f", ns / 1e9}')
cpu_after=$(cpu_snapshot $APP_CPU)
cpu_per_app=$(cpu_per "$cpu_before" "$cpu_after" "$posted" $APP_CPU)
first=$(sql "SELECT extract(epoch FROM min(submitted_at)) FROM intake.employer_applications WHERE employer_name = 'bench-write'")
last=$(sql "SELECT extract(epoch FROM max(received_at)) FROM review.queue_items WHERE employer_name = 'bench-write'")
e2e_rate=$(awk -v n="$posted" -v a="$first" -v b="$last" 'BEGIN {printf "%.0f", n / (b - a)}')
note "$posted applications; queue complete ${drain_s}s after the load ended; end-to-end $e2e_rate/s"
fi

note "verification: a bare libmicrohttpd handler doing one ES256 verify per request, then"
note "POST /v1/verifications through the gateway (key, version check, scan recorded and published)"
svc_start matching
svc_start codegen
PARTNER=$(signing_client bench-partner partner)
CHECKPOINT=$(signing_client bench-checkpoint checkpoint)
gw_quota bench-checkpoint 1000000 1000000
AUTH=$PARTNER http POST "$GATEWAY/v1/declarations" "$(declaration_json "$(person_id bench)" 420106)"
code_key=$(jq -r .person_key <<<"$BODY")
wait_for "a code" 60 code_is "$code_key" '.colour == "green"'
AUTH=$PARTNER http GET "$GATEWAY/v1/codes/$code_key/token"
jq -c '{token: .token, checkpoint_id: "bench-gate", temperature: 36.5}' <<<"$BODY" >"$HC_TEST_TMP/verify.json"
"$HC_BUILD/tests/bare_verify" 28090 &
echo $! >"$HC_TEST_TMP/bare_verify.pid"
wait_for "the bare server" 10 curl -fsS -o /dev/null http://127.0.0.1:28090/
bench verify_bare http://127.0.0.1:28090/
# Warm-up, not reported: the broker's JVM compiles its hot paths under the first load that
# publishes (its JIT compiler threads took a sixth of the CPU of the first verification run),
# and a deployed broker is warm.
WARM=${BENCH_WARMUP_SECONDS:-5}
note "warm-up: ${WARM}s of verifications through the gateway (not reported)"
BENCH_BODY=$HC_TEST_TMP/verify.json wrk -t2 -c"$CONNS" -d"${WARM}s" -s tests/bench/post.lua \
	-H "Authorization: Bearer $CHECKPOINT" "$GATEWAY/v1/verifications" >/dev/null 2>&1 || fail "wrk failed for the warm-up"
BENCH_BODY=$HC_TEST_TMP/verify.json bench verify_direct "$CODEGEN/v1/verifications" -s tests/bench/post.lua
VERIFY_CPU="gateway codegen matching Kafka PostgreSQL"
VERIFY_THREADS="gateway:MHD-worker gateway:up-services codegen:MHD-worker codegen:verify-writer codegen:relay"
scans_before=$(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$code_key'")
cpu_before=$(cpu_snapshot $VERIFY_CPU)
threads_before=$(cpu_snapshot $VERIFY_THREADS)
BENCH_BODY=$HC_TEST_TMP/verify.json bench verify_gateway "$GATEWAY/v1/verifications" -s tests/bench/post.lua \
	-H "Authorization: Bearer $CHECKPOINT"
# the run's scans published too (matching reads them: no fever, so it writes nothing)
outbox_drained() { [ "$(sql "SELECT count(*) FROM codegen.outbox")" = 0 ]; }
wait_for "codegen's outbox to drain" 120 outbox_drained
cpu_after=$(cpu_snapshot $VERIFY_CPU)
threads_after=$(cpu_snapshot $VERIFY_THREADS)
scans_run=$(( $(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$code_key'") - scans_before ))
cpu_per_verify=$(cpu_per "$cpu_before" "$cpu_after" "$scans_run" $VERIFY_CPU)
threads_per_verify=$(cpu_per "$threads_before" "$threads_after" "$scans_run" $VERIFY_THREADS | sed 's/ (total [^)]*)$//')
note "CPU per verification through the gateway ($scans_run scans): $cpu_per_verify"
note "of which, by thread: $threads_per_verify"
printf 'cpu_verify\t%s\n' "$cpu_per_verify" >>"$results"
printf 'cpu_verify_threads\t%s\n' "$threads_per_verify" >>"$results"
half=$(awk -v r="$(awk -F'\t' '$1 == "verify_gateway" {print $2}' "$results")" 'BEGIN {printf "%d", r / 2}')
note "open loop: POST /v1/verifications at $half/s (half of its saturation) for ${DUR}s, hc-load"
"$HC_BUILD/tests/hc-load" -r "$half" -d "$DUR" -c "$CONNS" -m POST -b "$HC_TEST_TMP/verify.json" \
	${BENCH_TRACE_DIR:+-o "$BENCH_TRACE_DIR/verify.trace"} \
	-H "Authorization: Bearer $CHECKPOINT" "$GATEWAY/v1/verifications" >"$HC_TEST_TMP/load-verify.txt" ||
	fail "hc-load failed"
note "$(cat "$HC_TEST_TMP/load-verify.txt")"
verified=$(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$code_key'")
hc_stop_pid "$HC_TEST_TMP/bare_verify.pid" bare_verify 5
# the open loop's scans published before the signed runs and the code display's
wait_for "codegen's outbox to drain" 120 outbox_drained

note "verification signed by the checkpoint, as in production: saturation, then half of it"
AUTH=$PARTNER http GET "$GATEWAY/v1/codes/$code_key/token" # a fresh token: the first may expire
jq -c '{token: .token, checkpoint_id: "bench-gate", temperature: 36.5}' <<<"$BODY" >"$HC_TEST_TMP/verify.json"
SIGNED_THREADS="gateway:MHD-worker gateway:nonce-claimer gateway:up-services codegen:MHD-worker codegen:verify-writer codegen:relay"
scans_before=$(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$code_key'")
cpu_before=$(cpu_snapshot $VERIFY_CPU)
threads_before=$(cpu_snapshot $SIGNED_THREADS)
signed verify_signed bench-checkpoint "$(val verify_gateway 2)" "$GATEWAY/v1/verifications" \
	-m POST -b "$HC_TEST_TMP/verify.json"
wait_for "codegen's outbox to drain" 120 outbox_drained
# CPU per signed verification: both runs (saturation and half) and the publishing of their scans
signed_scans=$(( $(sql "SELECT count(*) FROM codegen.scans WHERE person_key = '$code_key'") - scans_before ))
cpu_per_signed=$(cpu_per "$cpu_before" "$(cpu_snapshot $VERIFY_CPU)" "$signed_scans" $VERIFY_CPU)
threads_per_signed=$(cpu_per "$threads_before" "$(cpu_snapshot $SIGNED_THREADS)" "$signed_scans" $SIGNED_THREADS | sed 's/ (total [^)]*)$//')
note "CPU per signed verification ($signed_scans scans): $cpu_per_signed; by thread: $threads_per_signed"

note "code display: a bare libmicrohttpd hello, then GET a person's current QR (PNG, a fresh token"
note "each time) through the gateway, closed loop, then open loop at half its saturation"
gw_quota bench-partner 1000000 1000000
"$HC_BUILD/tests/bare_verify" 28091 hello &
echo $! >"$HC_TEST_TMP/bare_hello.pid"
wait_for "the bare hello server" 10 curl -fsS -o /dev/null http://127.0.0.1:28091/
bench hello_bare http://127.0.0.1:28091/
bench qr_gateway "$GATEWAY/v1/codes/$code_key/qr.png" -H "Authorization: Bearer $PARTNER"
hc_stop_pid "$HC_TEST_TMP/bare_hello.pid" bare_hello 5
qr_half=$(awk -v r="$(awk -F'\t' '$1 == "qr_gateway" {print $2}' "$results")" 'BEGIN {printf "%d", r / 2}')
"$HC_BUILD/tests/hc-load" -r "$qr_half" -d "$DUR" -c "$CONNS" \
	-H "Authorization: Bearer $PARTNER" "$GATEWAY/v1/codes/$code_key/qr.png" >"$HC_TEST_TMP/load-qr.txt" ||
	fail "hc-load failed"
note "$(cat "$HC_TEST_TMP/load-qr.txt")"
note "code display signed by a partner app, as in production: saturation, then half of it"
signed qr_signed bench-partner "$(val qr_gateway 2)" "$GATEWAY/v1/codes/$code_key/qr.png"
rss() { awk '/VmHWM/ {print $2}' "/proc/$(cat "$HC_TEST_TMP/$1.pid")/status"; }
mem=""
for s in gateway intake review matching codegen; do
	[ -s "$HC_TEST_TMP/$s.pid" ] && mem+="${mem:+, }$s $(($(rss $s) / 1024)) MiB"
done
if [ -n "${BENCH_ONLY:-}" ]; then
	cat "$results"
	exit 0
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
{
	cat <<HEAD
# Benchmarks

Produced by \`make bench\` (tests/bench/run.sh) on $(date -u +%Y-%m-%d); rewritten on every run.
Machine: $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(free -g | awk '/Mem:/ {print $2}') GiB,
shared by the load generator, PostgreSQL, Kafka and the services. Load: \`wrk -t2 -c$CONNS -d${DUR}s --latency\`
(closed loop: latencies under saturation, not at a fixed rate). Each figure is a ratio to a baseline
measured in the same run; absolute numbers move with the machine's other load.

| what | baseline (same run) | requests/s | ratio | p50 | p99 |
|---|---|---|---|---|---|
| GET /livez on intake (HTTP layer only) | itself | $(val livez 2) | 1.00 | $(val livez 3) | $(val livez 4) |
| GET application, intake direct (one SELECT) | /livez | $(val read_direct 2) | $(ratio "$(val read_direct 2)" "$(val livez 2)") | $(val read_direct 3) | $(val read_direct 4) |
| GET application through the gateway (API key checked) | intake direct | $(val read_gateway 2) | $(ratio "$(val read_gateway 2)" "$(val read_direct 2)") | $(val read_gateway 3) | $(val read_gateway 4) |
| pgbench: 1 update + 1 insert, 8 clients | itself | $(val pgbench 2) tx/s | 1.00 | - | - |
| POST application, intake direct | pgbench | $(val write_direct 2) | $(ratio "$(val write_direct 2)" "$(val pgbench 2)") | $(val write_direct 3) | $(val write_direct 4) |
| POST application through the gateway (API key checked) | intake direct | $(val write_gateway 2) | $(ratio "$(val write_gateway 2)" "$(val write_direct 2)") | $(val write_gateway 3) | $(val write_gateway 4) |
| bare libmicrohttpd, one ES256 verify per request | itself | $(val verify_bare 2) | 1.00 | $(val verify_bare 3) | $(val verify_bare 4) |
| POST /v1/verifications, codegen direct (online check, scan recorded) | bare verify | $(val verify_direct 2) | $(ratio "$(val verify_direct 2)" "$(val verify_bare 2)") | $(val verify_direct 3) | $(val verify_direct 4) |
| POST /v1/verifications through the gateway (online check, scan recorded) | bare verify | $(val verify_gateway 2) | $(ratio "$(val verify_gateway 2)" "$(val verify_bare 2)") | $(val verify_gateway 3) | $(val verify_gateway 4) |
| POST /v1/verifications through the gateway, signed (RFC 9421) as in production | bare verify | $(val verify_signed 2) | $(ratio "$(val verify_signed 2)" "$(val verify_bare 2)") | - | - |
| bare libmicrohttpd hello | itself | $(val hello_bare 2) | 1.00 | $(val hello_bare 3) | $(val hello_bare 4) |
| GET a person's current QR (PNG, fresh token) through the gateway | bare hello | $(val qr_gateway 2) | $(ratio "$(val qr_gateway 2)" "$(val hello_bare 2)") | $(val qr_gateway 3) | $(val qr_gateway 4) |
| GET a person's current QR through the gateway, signed (RFC 9421) as in production | bare hello | $(val qr_signed 2) | $(ratio "$(val qr_signed 2)" "$(val hello_bare 2)") | - | - |

End to end: $posted applications posted during the two write runs reached review's queue at
$e2e_rate/s on average (first submission to last queue insert), and the queue was complete
${drain_s} s after the load ended. Peak resident memory: $mem.
CPU time per accepted application, from accept to queued (write runs and drain): $cpu_per_app.
On 2 shared cores this total bounds the end-to-end rate; it, not any one service, is what the
write-path ratios above reflect.
Online verification at half of its own saturation, open loop (\`hc-load -r $half -d $DUR -c $CONNS\`,
latency measured from each request's scheduled time): $(sl verify rate) req/s achieved, p50 $(sl verify p50) ms,
p90 $(sl verify p90) ms, p99 $(sl verify p99) ms, max $(sl verify max) ms; $(sl verify ok) answered 2xx, $(sl verify non2xx) other,
$(sl verify errors) errors; hc-load itself used $(sl verify cpu) s of CPU in the ${DUR} s and sent $(sl verify late_p99) ms late at p99. $verified scans were recorded for the benchmark's code, one per verified
request of every run and of a ${WARM}-second warm-up before them (each also published on Kafka). The aim is 0.6x the bare baseline and a p99
under 10 ms at half saturation. Each verification is recorded before it is answered: its scan and
outbox row are group-committed with the others waiting (services/codegen/verify.c) and relayed
to Kafka, which puts it nearer a POST than a read. CPU time per verification through the gateway,
its closed-loop run and the publishing of its scans ($scans_run): $cpu_per_verify (by thread:
$threads_per_verify); at its rate the bare baseline takes $(awk -v r="$(val verify_bare 2)" -v c="$(nproc)" 'BEGIN {printf "%.2f", c * 1000 / r}') ms of the machine's $(nproc) cores a request, load generator included.
Code display at half of its own saturation, open loop (\`hc-load -r $qr_half -d $DUR -c $CONNS\`):
$(sl qr rate) req/s achieved, p50 $(sl qr p50) ms, p90 $(sl qr p90) ms, p99 $(sl qr p99) ms, max $(sl qr max) ms;
$(sl qr ok) answered 2xx, $(sl qr non2xx) other, $(sl qr errors) errors; hc-load used $(sl qr cpu) s of CPU and sent $(sl qr late_p99) ms late at p99. The aim is 0.5x the bare hello and
a p99 under 10 ms at half saturation. Each answer signs a fresh token (ES256) and renders its QR
as PNG; the gateway checks the caller and forwards to codegen.
Signed, as checkpoints and partner apps sign in production (API keys serve local development
only): each request's signature verified (ES256) and its nonce recorded before it goes on, each
answer signed (ES256). wrk cannot sign, so a signed route's saturation (the table's signed rows,
without latencies) is the answers per second of an open-loop run offered 1.5x the unsigned
route's saturation for ${DUR} s, over the whole run until its queue drained (\`hc-load -r RATE
-d $DUR -c $CONNS -i CLIENT:KID -k KEY.pem\`, RATE $(sl verify_signed-sat sent | awk -v d="$DUR" '{printf "%d", $1 / d}')/s for verification and
$(sl qr_signed-sat sent | awk -v d="$DUR" '{printf "%d", $1 / d}')/s for display; every request signed before the run, with its own nonce). At half of it, open loop: verification $(sl verify_signed rate)/s,
p50 $(sl verify_signed p50) ms, p90 $(sl verify_signed p90) ms, p99 $(sl verify_signed p99) ms, max $(sl verify_signed max) ms
($(sl verify_signed ok) 2xx, $(sl verify_signed non2xx) other, hc-load $(sl verify_signed late_p99) ms late at p99); CPU
per signed verification, both runs and the publishing of their scans ($signed_scans): $cpu_per_signed
(by thread: $threads_per_signed); code
display $(sl qr_signed rate)/s, p50 $(sl qr_signed p50) ms, p90 $(sl qr_signed p90) ms, p99 $(sl qr_signed p99) ms, max $(sl qr_signed max) ms
($(sl qr_signed ok) 2xx, $(sl qr_signed non2xx) other, hc-load $(sl qr_signed late_p99) ms late at p99).
Non-2xx answers during the runs: $(awk -F'\t' '{s += $5} END {print s}' "$results").

Reproduce: \`make bench\` (BENCH_SECONDS and BENCH_CONNECTIONS change the duration and connections).
HEAD
} >"$out"
cat "$out"
echo passed
