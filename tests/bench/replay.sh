#!/usr/bin/env bash
# The replay benchmark (run by tests/bench/run.sh inside a bench session):
# hc-replay reading 1,000,000 events of one topic into NDJSON, against kcat
# (librdkafka's own command-line consumer) reading the same topic in the
# same run.  Both write to /dev/null; each runs twice, alternately, and the
# faster run of each counts.  Appends its section to docs/BENCHMARKS.md
# (printed only, with BENCH_ONLY=replay).
. "$(dirname "$0")/../integration/lib.sh"

N=${BENCH_REPLAY_EVENTS:-1000000}
TOPIC=hc.bench.replay.v1
out=docs/BENCHMARKS.md

printf '%s 6\n' "$TOPIC" >"$HC_TEST_TMP/bench-topics.txt"
"$HC_BUILD/bin/hc-topics" create "$HC_KAFKA_BROKERS" "$HC_TEST_TMP/bench-topics.txt" "$HC_KAFKA_TOPIC_PREFIX" >/dev/null ||
	fail "could not create $TOPIC"
note "producing $N code.changed-shaped CloudEvents (kcat -P)"
python3 - "$N" >"$HC_TEST_TMP/replay-events.tsv" <<'PY'
import hashlib, json, sys, uuid
n = int(sys.argv[1])
for i in range(n):
    key = hashlib.sha256(b"bench-%d" % (i % 50000)).hexdigest()
    ev = {"specversion": "1.0", "id": str(uuid.UUID(int=i)), "type": "hc.codegen.code.changed.v1",
          "source": "/hc/codegen", "subject": key, "time": "2026-11-27T08:00:00.000000Z",
          "datacontenttype": "application/json",
          "data": {"person_key": key, "masked_name": "张*", "county_code": "420102", "version": i // 50000 + 1,
                   "colour": "green", "pass": False, "rule_id": "no-risk", "rule_version": 1,
                   "evidence": [{"source": "self_declaration", "kind": "declaration", "record_id": str(i)}],
                   "decided_by": "rules", "cause": "assessment %s" % uuid.UUID(int=i),
                   "changed_at": "2026-11-27T08:00:00.000000Z"}}
    sys.stdout.write(key + "\t" + json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n")
PY
size=$(($(stat -c %s "$HC_TEST_TMP/replay-events.tsv") / N))
kcat -b "$HC_KAFKA_BROKERS" -P -t "$HC_KAFKA_TOPIC_PREFIX$TOPIC" -K $'\t' -z lz4 \
	-H ce_type=hc.codegen.code.changed.v1 -H county=420102 -l "$HC_TEST_TMP/replay-events.tsv" ||
	fail "kcat could not produce"
rm -f "$HC_TEST_TMP/replay-events.tsv"

# timed NAME COMMAND...: seconds (3 decimals) the command took; fails when it fails.
timed() {
	local t0 t1
	t0=$(date +%s%N)
	"${@:2}" >/dev/null 2>"$HC_TEST_TMP/$1.err" || { cat "$HC_TEST_TMP/$1.err" >&2; fail "$1 failed"; }
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}'
}
kcat_run() { kcat -b "$HC_KAFKA_BROKERS" -C -t "$HC_KAFKA_TOPIC_PREFIX$TOPIC" -o beginning -e -q; }
replay_run() { HC_KAFKA_BROKERS=$HC_KAFKA_BROKERS "$HC_BUILD/bin/hc-replay" --topic "$TOPIC" --quiet; }
count=$(replay_run | wc -l)
assert_eq "$count" "$N" "events replayed"
declare -a k r
for i in 1 2; do
	k[i]=$(timed kcat kcat_run)
	r[i]=$(timed replay replay_run)
	note "run $i: kcat ${k[i]} s, hc-replay ${r[i]} s"
done
best() { awk -v a="$1" -v b="$2" 'BEGIN {print (a < b ? a : b)}'; }
kb=$(best "${k[1]}" "${k[2]}")
rb=$(best "${r[1]}" "${r[2]}")
krate=$(awk -v n="$N" -v s="$kb" 'BEGIN {printf "%d", n / s}')
rrate=$(awk -v n="$N" -v s="$rb" 'BEGIN {printf "%d", n / s}')
ratio=$(awk -v a="$rrate" -v b="$krate" 'BEGIN {printf "%.2f", a / b}')
note "kcat $krate events/s, hc-replay $rrate events/s: ${ratio}x"
section=$(
	cat <<SECTION

## Replay of the event log

\`hc-replay\` reading $N events (about $size bytes each, lz4-compressed on the broker, 6
partitions) from the beginning to the end into NDJSON, against \`kcat -C -e -q\` consuming the
same topic in the same run; both write to /dev/null, each ran twice alternately and the faster
run counts. hc-replay wraps every record in a JSON line with its topic, partition, offset,
timestamp and key, and checks that the record is JSON before copying it verbatim (no record is
parsed into a tree).

| what | baseline (same run) | events/s | ratio | runs (s) |
|---|---|---|---|---|
| kcat to /dev/null | itself | $krate | 1.00 | ${k[1]}, ${k[2]} |
| hc-replay to NDJSON | kcat | $rrate | $ratio | ${r[1]}, ${r[2]} |

The aim is 0.5x kcat or better. Reproduce: \`make bench\` (\`BENCH_ONLY=replay\` runs only this
part and prints it; \`BENCH_REPLAY_EVENTS\` changes the count).
SECTION
)
if [ "${BENCH_ONLY:-}" = replay ]; then
	echo "$section"
else
	echo "$section" >>"$out"
fi
echo passed
