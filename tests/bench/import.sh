#!/usr/bin/env bash
# The bulk-import benchmark (run by tests/bench/run.sh inside a bench
# session): `hc-matching import` of 1,000,000 reference records (CSV: each
# line validated, its ID number turned into a person key, rows stored in
# batches with the re-assessments they cause), against PostgreSQL COPY of
# the same rows, as stored (psql's \copy from a file), into a table with the
# same columns, constraints and indexes, in the same run.  Appends its
# section to docs/BENCHMARKS.md (printed only, with BENCH_ONLY=import).
. "$(dirname "$0")/../integration/lib.sh"

N=${BENCH_IMPORT_RECORDS:-1000000}
out=docs/BENCHMARKS.md
csv=$HC_TEST_TMP/records.csv
svc_start matching # applies its migrations; consumes and relays as in production

note "generating $N close-contact records of people unknown to matching (no re-assessment)"
python3 - "$N" >"$csv" <<'PY'
import sys
n = int(sys.argv[1])
w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
print("source,record_id,kind,resident_id,county_code,date,level")
for i in range(n):
    body = "420102%04d%02d%02d%03d" % (1950 + i % 50, 1 + i % 12, 1 + i % 28, i % 1000)
    check = "10X98765432"[sum(int(c) * k for c, k in zip(body, w)) % 11]
    print("contact_tracing,bench-%x,close_contact,%s%s,,2026-11-20," % (i, body, check))
PY
matching_import() {
	HC_DATABASE_URL="$(hc_db_url matching "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		"$HC_BUILD/bin/hc-matching" import "$@"
}
t0=$(date +%s%N)
summary=$(matching_import "$csv") || fail "import failed: $summary"
t1=$(date +%s%N)
import_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
stored=$(sql "SELECT count(*) FROM matching.records WHERE record_id LIKE 'bench-%'")
assert_eq "$stored" "$N" "records stored"
note "import: $import_s s ($summary)"

note "baseline: COPY of the same rows into a table like matching.records"
rows=$HC_TEST_TMP/rows.copy
sql "COPY (SELECT * FROM matching.records WHERE record_id LIKE 'bench-%') TO STDOUT" >"$rows"
sql "CREATE TABLE public.bench_records (LIKE matching.records INCLUDING ALL)" >/dev/null
t0=$(date +%s%N)
deploy/local/pg.sh psql "$HC_PG_DATABASE" -c "\\copy public.bench_records FROM pstdin" <"$rows" >/dev/null ||
	fail "COPY failed"
t1=$(date +%s%N)
copy_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')
sql "DROP TABLE public.bench_records" >/dev/null
rm -f "$rows" "$csv"
import_rate=$(awk -v n="$N" -v s="$import_s" 'BEGIN {printf "%d", n / s}')
copy_rate=$(awk -v n="$N" -v s="$copy_s" 'BEGIN {printf "%d", n / s}')
ratio=$(awk -v a="$import_rate" -v b="$copy_rate" 'BEGIN {printf "%.2f", a / b}')
note "COPY $copy_s s ($copy_rate rows/s); import $import_rate rows/s: ${ratio}x"
section=$(
	cat <<SECTION

## Bulk import of reference records

\`hc-matching import\` of $N CSV records (close contacts of people matching does not know, so
none is re-assessed), against \`COPY\` of the same rows, as stored, into a table made \`LIKE
matching.records INCLUDING ALL\` (same constraints and indexes), in the same run.

| what | baseline (same run) | rows/s | ratio | seconds |
|---|---|---|---|---|
| COPY of the stored rows | itself | $copy_rate | 1.00 | $copy_s |
| hc-matching import (CSV parsed and checked, person keys derived, batches of rows) | COPY | $import_rate | $ratio | $import_s |

The aim is 0.5x COPY or better. Reproduce: \`make bench\` (\`BENCH_ONLY=import\` runs only this
part and prints it; \`BENCH_IMPORT_RECORDS\` changes the count).
SECTION
)
if [ "${BENCH_ONLY:-}" = import ]; then
	echo "$section"
else
	echo "$section" >>"$out"
fi
echo passed
