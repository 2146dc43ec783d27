#!/usr/bin/env bash
# Installs what the platform needs and is missing: Debian packages, then the
# Apache Kafka broker jars from Maven Central (deploy/kafka/pom.xml).
# Idempotent: a second run installs nothing.  `install.sh lint` adds the
# linters.
set -euo pipefail
. "$(dirname "$0")/env.sh"

packages=(build-essential pkg-config librdkafka-dev libpq-dev libjansson-dev libmicrohttpd-dev
	libcurl4-openssl-dev libssl-dev libqrencode-dev libcbor-dev postgresql-15 postgresql-client-15
	kcat curl jq openssl zbar-tools procps iproute2 openjdk-17-jre-headless maven python3-jsonschema python3-yaml clang-14
	libclang-rt-14-dev)
[ "${1:-}" = lint ] && packages+=(clang-format cppcheck)
[ "${1:-}" = bench ] && packages+=(wrk)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	hc_log "installing Debian packages: ${missing[*]}"
	[ "$(id -u)" = 0 ] || SUDO=sudo
	${SUDO:-} apt-get update -qq
	DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A stock postgresql package starts its own cluster on 5432; we do not use it
# and do not touch it.  Our cluster is started by deploy/local/pg.sh.

if [ ! -f "$HC_KAFKA_LIBS/.complete" ]; then
	hc_log "fetching the Kafka broker jars from Maven Central into $HC_KAFKA_LIBS"
	rm -rf "$HC_KAFKA_LIBS"
	mkdir -p "$HC_KAFKA_LIBS"
	mvn -q -B -f "$HC_ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies \
		-DincludeScope=runtime -DoutputDirectory="$HC_KAFKA_LIBS" </dev/null >"$HC_LOG_DIR/maven.log" 2>&1 ||
		{ tail -20 "$HC_LOG_DIR/maven.log" >&2; hc_die "could not fetch the Kafka jars"; }
	touch "$HC_KAFKA_LIBS/.complete"
fi
