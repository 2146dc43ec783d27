#!/usr/bin/env bash
# hc-replay stopped with Ctrl-C (SIGINT) in the middle of a long read, while
# its output waits on a slow reader, exits 130 after writing whole lines
# only, prints how to resume, and commits its group's positions; run again
# with the same group it writes exactly the rest: every offset of every
# partition once, none missing.
. "$(dirname "$0")/lib.sh"

N=200000
TOPIC=hc.test.replay-resume.v1
printf '%s 3\n' "$TOPIC" >"$HC_TEST_TMP/topics.txt"
"$HC_BUILD/bin/hc-topics" create "$HC_KAFKA_BROKERS" "$HC_TEST_TMP/topics.txt" "$HC_KAFKA_TOPIC_PREFIX" >/dev/null
seq 1 $N | awk '{printf "k%d\t{\"n\":%d,\"pad\":\"%0100d\"}\n", $1 % 997, $1, $1}' |
	kcat -b "$HC_KAFKA_BROKERS" -P -t "$HC_KAFKA_TOPIC_PREFIX$TOPIC" -K $'\t' -l /dev/stdin
replay() { HC_KAFKA_BROKERS=$HC_KAFKA_BROKERS "$HC_BUILD/bin/hc-replay" --topic "$TOPIC" --quiet "$@"; }
out=$HC_TEST_TMP/out.ndjson

note "interrupted while its output waits on a slow reader (a full pipe)"
mkfifo "$HC_TEST_TMP/pipe"
(exec 3<"$HC_TEST_TMP/pipe"; sleep 2; cat <&3 >"$out") &
reader=$!
# the binary itself in the background (a function would run in a subshell, which would get the signal)
HC_KAFKA_BROKERS=$HC_KAFKA_BROKERS "$HC_BUILD/bin/hc-replay" --topic "$TOPIC" --quiet --group "resume-$HC_TEST_RUN" \
	>"$HC_TEST_TMP/pipe" 2>"$HC_TEST_TMP/err1.txt" &
pid=$!
sleep 1
kill -INT $pid
set +e
wait $pid
rc=$?
set -e
wait $reader
assert_eq "$rc" 130 "exit status after SIGINT"
first=$(wc -l <"$out")
[ "$first" -gt 0 ] && [ "$first" -lt $N ] || fail "interrupted after $first of $N lines"
grep -q "resume with: --offset $TOPIC:" "$HC_TEST_TMP/err1.txt" || fail "no resume hint: $(cat "$HC_TEST_TMP/err1.txt")"
jq -c . "$out" >/dev/null || fail "a partial line"
note "$first whole lines before the interrupt"

note "resumed with the same group: exactly the rest"
replay --group "resume-$HC_TEST_RUN" --output "$out" --append
assert_eq "$(wc -l <"$out")" $N "lines after resuming"
assert_eq "$(jq -r '"\(.partition) \(.offset)"' "$out" | sort -u | wc -l)" $N "distinct records"
assert_eq "$(jq -s '[.[].event.n] | unique | length' "$out")" $N "every event once"
for p in 0 1 2; do
	jq -r "select(.partition == $p) | .offset" "$out" | sort -n | awk '$1 != NR - 1 {exit 1}' || fail "a gap in partition $p"
done

echo passed
