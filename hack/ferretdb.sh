#!/usr/bin/env bash
# ferretdb.sh prints the path of the FerretDB launcher binary (a MongoDB wire-protocol server
# on SQLite, used by the service tests and the local stack), building it first when needed.
#
# The launcher is the small module in hack/ferretdb (FerretDB's dependency tree stays out of
# the project's go.mod). The binary is cached outside the work tree, keyed by FerretDB version,
# and rebuilt when the launcher's sources change. Cold build about 3.5 min on 2 cores (module
# cache +640 MB); warm rebuild a few seconds; cached binary: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FERRETDB_VERSION="v1.24.2"
SRC="$(cd "$(dirname "$0")/ferretdb" && pwd)"
DIR="${TOOLS_DIR}/ferretdb-${FERRETDB_VERSION}"
BIN="${DIR}/ferretdb-launcher"
STAMP="${DIR}/source.sha256"

source_sum() { cat "${SRC}/main.go" "${SRC}/go.mod" "${SRC}/go.sum" | sha256sum | cut -d' ' -f1; }

sum=$(source_sum)
fresh() { [ -x "${BIN}" ] && [ -f "${STAMP}" ] && [ "$(cat "${STAMP}")" = "${sum}" ]; }
if fresh; then
	echo "${BIN}"
	exit 0
fi

# Test packages run in parallel and each may call this script: one builds, the others wait.
mkdir -p "${DIR}"
exec 9>"${DIR}/.lock"
flock 9
if fresh; then
	echo "${BIN}"
	exit 0
fi

log "building FerretDB ${FERRETDB_VERSION} launcher (hack/ferretdb) into ${DIR}"
log "  why: no cached launcher for these sources; about 3.5 min on 2 cores with empty Go caches, seconds warm"
start=$(date +%s)
tmp="${BIN}.tmp.$$"
trap 'rm -f "${tmp}"' EXIT
tool_go_env go build -C "${SRC}" -o "${tmp}" . >&2
mv -f "${tmp}" "${BIN}"
echo "${sum}" >"${STAMP}"
log "FerretDB launcher built in $(($(date +%s) - start)) s: ${BIN}"
echo "${BIN}"
