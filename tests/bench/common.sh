# What the benchmark scripts share (sourced after tests/integration/lib.sh).

# pgbench_tps SECONDS: runs the write baseline (pgbench: one update + one insert per
# transaction, 8 clients) on fresh tables in hc_bench and prints its transactions per second.
pgbench_tps() {
	deploy/local/pg.sh psql hc_bench -q -c "SET client_min_messages = warning; DROP TABLE IF EXISTS bench_counter, bench_log;
		CREATE TABLE bench_counter (id int PRIMARY KEY, n bigint NOT NULL DEFAULT 0);
		INSERT INTO bench_counter (id) SELECT generate_series(1, 1000);
		CREATE TABLE bench_log (id bigserial PRIMARY KEY, counter_id int, payload text, at timestamptz DEFAULT now());" ||
		fail "could not create pgbench's tables"
	chmod 644 tests/bench/pgbench.sql
	(cd / && runuser -u postgres -- "$HC_PG_BIN/pgbench" -h "$HC_PG_SOCKET_DIR" -p "$HC_PG_PORT" -n -c 8 -j 2 \
		-T "$1" -f "$HC_ROOT/tests/bench/pgbench.sql" hc_bench) >"$HC_TEST_TMP/pgbench.txt" 2>&1 || fail "pgbench failed"
	sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$HC_TEST_TMP/pgbench.txt" | head -1
}

# signing_client NAME ROLE: a gateway client of ROLE that signs its requests (RFC 9421,
# docs/API.md) with the key $HC_TEST_TMP/NAME.pem, as partners and checkpoints do in production
# (API keys serve local development only); prints its API key, for the unsigned warm-ups alone.
# hc-load -i NAME-$HC_TEST_RUN:k1 -k $HC_TEST_TMP/NAME.pem signs each request with its own nonce.
signing_client() {
	local key
	key=$(gw_client "$1" "$2") || fail "could not create the client $1"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$HC_TEST_TMP/$1.pem" 2>/dev/null
	HC_DATABASE_URL="$(hc_db_url gateway "$HC_PG_DATABASE")" HC_KAFKA_BROKERS="$HC_KAFKA_BROKERS" \
		"$HC_BUILD/bin/hc-gateway" client key "$1-$HC_TEST_RUN" k1 "$HC_TEST_TMP/$1.pem" >/dev/null 2>>"$HC_TEST_TMP/gateway-admin.log" ||
		fail "could not register the signing key of $1"
	echo "$key"
}

# declaration_bodies N SEED COUNTY NAME: N declaration bodies, one per line, of N different
# people of COUNTY (resident IDs with GB 11643 check characters; SEED picks their birth dates,
# so runs with other seeds declare other people).
declaration_bodies() {
	awk -v n="$1" -v seed="$2" -v county="$3" -v name="$4" 'BEGIN {
		split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " "); c = "10X98765432"
		for (i = 0; i < n; i++) {
			day = seed + int(i / 1000)
			b = sprintf("%s%04d%02d%02d%03d", county, 1960 + int(day / 336) % 40, 1 + int(day / 28) % 12, 1 + day % 28, i % 1000)
			s = 0
			for (k = 1; k <= 17; k++) s += substr(b, k, 1) * w[k]
			printf "{\"name\":\"%s\",\"resident_id\":\"%s%s\",\"phone\":\"13912345678\",\"county_code\":\"%s\",\"health\":{\"temperature\":36.5,\"symptoms\":[],\"contact_with_cases\":false,\"risk_area_travel_14d\":false}}\n", name, b, substr(c, s % 11 + 1, 1), county
		}
	}'
}

# cpu_ticks PID...: user+system clock ticks used so far by the processes.
cpu_ticks() {
	local p t=0
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo $t
}
pg_pids() {
	local pm
	pm=$(head -1 "$HC_PG_DATA/postmaster.pid")
	echo "$pm $(ps -o pid= --ppid "$pm" | xargs)"
}
# pg_ticks: PostgreSQL's ticks so far: the postmaster's own and those of the backends it has
# reaped (cutime, cstime), plus the live backends' (a backend that ends between two snapshots
# moves its time from the one to the other rather than dropping it)
pg_ticks() {
	local pm
	pm=$(head -1 "$HC_PG_DATA/postmaster.pid")
	echo $(($(awk '{print $16 + $17}' "/proc/$pm/stat") + $(cpu_ticks $(pg_pids))))
}
# thread_ticks PID NAME: the CPU time so far of PID's threads named NAME (a service names
# its threads: README, "Watch it work"), in clock ticks, from their schedstat nanoseconds
thread_ticks() {
	local t ns=0
	for t in /proc/"$1"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$2" ] && ns=$((ns + $(awk '{print $1}' "$t/schedstat" 2>/dev/null || echo 0)))
	done
	awk -v ns="$ns" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.3f", ns * hz / 1e9}'
}
# cpu_snapshot NAME...: ticks used so far by each named service (Kafka and PostgreSQL by those
# names; KafkaJIT for the broker's JIT compiler threads; SERVICE:THREAD for a service's threads
# of that name).
cpu_snapshot() {
	local n out=""
	for n in "$@"; do
		case $n in
		Kafka) out+=" $(cpu_ticks "$(cat "$HC_RUN_DIR/kafka.pid")")" ;;
		KafkaJIT) # the broker's JIT compiler threads
			out+=" $(awk -v a="$(thread_ticks "$(cat "$HC_RUN_DIR/kafka.pid")" "C1 CompilerThre")" \
				-v b="$(thread_ticks "$(cat "$HC_RUN_DIR/kafka.pid")" "C2 CompilerThre")" 'BEGIN {print a + b}')" ;;
		PostgreSQL) out+=" $(pg_ticks)" ;;
		*:*) out+=" $(thread_ticks "$(cat "$HC_TEST_TMP/${n%%:*}.pid")" "${n#*:}")" ;;
		*) out+=" $(cpu_ticks "$(cat "$HC_TEST_TMP/$n.pid")")" ;;
		esac
	done
	echo "$out"
}
# cpu_per BEFORE AFTER COUNT NAME...: CPU milliseconds per unit of work, by service, and the total.
cpu_per() {
	local a=$1 b=$2 n=$3
	shift 3
	awk -v a="$a" -v b="$b" -v n="$n" -v names="$*" -v hz="$(getconf CLK_TCK)" 'BEGIN {
	k = split(a, x, " "); split(b, y, " "); split(names, name, " ")
	for (i = 1; i <= k; i++) { ms = (y[i] - x[i]) * 1000 / hz / n; total += ms
		out = out sprintf("%s%s %.2f ms", i > 1 ? ", " : "", name[i], ms) }
	printf "%s (total %.2f ms)", out, total }'
}
