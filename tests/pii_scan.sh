#!/usr/bin/env bash
# After the integration tests: no raw resident ID number, mobile number or
# test person's name may appear in any service log, in any record of any
# topic of the run, or in any schema but intake's (DESIGN.md section 2).  Numbers are matched only where
# they stand alone, not inside hex strings such as person keys, trace ids
# and UUIDs.  Usage: tests/pii_scan.sh (inside a tests/run.sh session).
set -uo pipefail
cd "$(dirname "$0")/.."
. deploy/local/env.sh

id_re='(^|[^0-9a-fA-F])[1-9][0-9]{5}(19|20)[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]([^0-9a-fA-F]|$)'
phone_re='(^|[^0-9a-fA-F])1[3-9][0-9]{9}([^0-9a-fA-F]|$)'
names_re='测试员|张三丰|王小明|李四光'
found=0

scan() { # scan LABEL < text
	local hits
	hits=$(grep -nE "$id_re|$phone_re|$names_re" | head -5)
	if [ -n "$hits" ]; then
		echo "personal data in $1:"
		sed 's/^/    /' <<<"$hits"
		found=1
	fi
}

for f in "$HC_TEST_TMP"/*.log; do
	case "$(basename "$f")" in
	[0-9][0-9]_*.log) continue ;; # the tests' own output, not the platform's
	esac
	scan "$(basename "$f")" <"$f"
done
topics=$(kcat -b "$HC_KAFKA_BROKERS" -L 2>/dev/null | sed -n "s/^  topic \"\(${HC_KAFKA_TOPIC_PREFIX//./\\.}[^\"]*\)\".*/\1/p")
[ -n "$topics" ] || { echo "no topics of this run found"; exit 1; }
n=0
for t in $topics; do
	kcat -b "$HC_KAFKA_BROKERS" -C -t "$t" -o beginning -e -q -f '%k %h %s\n' 2>/dev/null | scan "topic $t"
	n=$((n + 1))
done
# Every schema but intake's (which holds personal data sealed) must hold none.
schemas=0
for schema in review matching certificate codegen analytics gateway; do
	deploy/local/pg.sh dump "$HC_PG_DATABASE" "$schema" | scan "schema $schema"
	schemas=$((schemas + 1))
done
echo "scanned $(ls "$HC_TEST_TMP"/*.log | grep -cv '/[0-9][0-9]_') logs, $n topics and $schemas schemas"
exit $found
