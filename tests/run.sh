#!/usr/bin/env bash
# The test command behind `make test` (and .ci/run).
#
# Starts the real PostgreSQL cluster and Kafka broker when they are not
# running (and stops again only what it started), gives this run its own
# database (hc_test), topic prefix and consumer groups, then runs every unit
# test binary and every integration script, each in its own process with a
# timeout.  The last line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
. tests/session.sh
session_begin hc_test || exit 1

passed=0
failed=0
failures=()

echo "== unit tests"
for t in "$HC_BUILD"/tests/test_*; do
	out=$(timeout 300 "$t" 2>&1)
	echo "$out" | grep -v -e '^ok ' -e '^[0-9]* passed, [0-9]* failed$' || true
	p=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
	if [ -z "$p" ]; then
		failed=$((failed + 1))
		failures+=("$(basename "$t") (crashed)")
		continue
	fi
	echo "unit $(basename "$t"): $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" = 0 ] || failures+=("$(basename "$t")")
done

# By default each target replays its corpus and then makes a fixed number
# of runs from a fixed seed: deterministic, so a green main stays green.
# FUZZ_SECONDS=N explores for N seconds per target from a random seed.
if [ -n "${FUZZ_SECONDS:-}" ]; then
	fuzz_args=(-max_total_time="$FUZZ_SECONDS")
	echo "== fuzzing ($FUZZ_SECONDS s per target, random seed)"
else
	fuzz_args=(-seed=1 -runs="${FUZZ_RUNS:-300000}")
	echo "== fuzzing (${FUZZ_RUNS:-300000} runs per target, seed 1)"
fi
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=$HC_TEST_TMP/corpus-$name
	mkdir -p "$corpus"
	if "$f" "${fuzz_args[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$HC_TEST_TMP/" \
		"$corpus" "tests/fuzz/corpus/${name#fuzz_}" >"$HC_TEST_TMP/$name.fuzz" 2>&1; then
		echo "ok   $name ($(sed -n 's/^stat::number_of_executed_units: *//p' "$HC_TEST_TMP/$name.fuzz") runs)"
		passed=$((passed + 1))
	else
		echo "FAIL $name; last lines of $HC_TEST_TMP/$name.fuzz:"
		tail -30 "$HC_TEST_TMP/$name.fuzz" | sed 's/^/    /'
		failed=$((failed + 1))
		failures+=("$name")
	fi
done

echo "== integration tests"
for t in tests/integration/[0-9]*.sh; do
	[ -n "${HC_TEST_ONLY:-}" ] && ! grep -qE "$HC_TEST_ONLY" <<<"$t" && continue
	name=$(basename "$t" .sh)
	log=$HC_TEST_TMP/$name.log
	start=$(date +%s)
	if timeout -k 10 600 bash "$t" >"$log" 2>&1; then
		echo "ok   $name ($(($(date +%s) - start)) s)"
		passed=$((passed + 1))
	else
		echo "FAIL $name ($(($(date +%s) - start)) s); last lines of $log:"
		tail -25 "$log" | sed 's/^/    /'
		failed=$((failed + 1))
		failures+=("$name")
	fi
done

# Personal data must not reach any service log or any record of the run.
if out=$(tests/pii_scan.sh 2>&1); then
	echo "ok   pii_scan ($(tail -1 <<<"$out"))"
	passed=$((passed + 1))
else
	echo "FAIL pii_scan"
	sed 's/^/    /' <<<"$out"
	failed=$((failed + 1))
	failures+=(pii_scan)
fi

# Sanitizer builds report into the services' logs; any report fails the run.
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$HC_TEST_TMP"/*.log >/dev/null 2>&1; then
	echo "FAIL sanitizer reports in: $(grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$HC_TEST_TMP"/*.log | xargs)"
	failed=$((failed + 1))
	failures+=(sanitizers)
fi

[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
SESSION_SUMMARY="$passed passed, $failed failed" # printed by the EXIT trap, last
[ "$failed" -eq 0 ]
