#!/usr/bin/env bash
# `make bench`: benchmarks on the real stack, each figure with a baseline
# measured in the same run, written to docs/BENCHMARKS.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/session.sh
# BENCH_PG_STATS=1: PostgreSQL (when the bench starts it) loads pg_stat_statements, and the
# sustained load and the re-assessment print their costliest statements.
[ "${BENCH_PG_STATS:-}" = 1 ] && export HC_PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements"
# BENCH_TRACE_DIR=DIR: the open-loop verification run writes each answer's due time, latency and
# status to DIR/verify.trace (hc-load -o), its signed one to DIR/verify_signed.trace, the signed
# display's to DIR/qr_signed.trace, and the burst's runs to DIR/{before,burst,after1..3}.trace.
session_begin hc_bench || exit 1
# The services run with their own defaults (the gateway's 16 HTTP workers, the others' 4), as in
# production; BENCH_HTTP_THREADS gives every service that many instead.
export TEST_HTTP_THREADS=${BENCH_HTTP_THREADS:-}
export TEST_GATEWAY_PORT=28080 TEST_INTAKE_PORT=28081 TEST_REVIEW_PORT=28082 TEST_MATCHING_PORT=28083 TEST_CERTIFICATE_PORT=28084 TEST_CODEGEN_PORT=28085
if [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = verify ]; then
	bash tests/bench/http.sh || exit 1
fi
if [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = e2e ] || [ "${BENCH_ONLY:-}" = reassess ]; then
	bash tests/bench/e2e.sh || exit 1
fi
if [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = replay ]; then
	bash tests/bench/replay.sh || exit 1
fi
if [ -z "${BENCH_ONLY:-}" ] || [ "${BENCH_ONLY:-}" = import ]; then
	bash tests/bench/import.sh || exit 1
fi
