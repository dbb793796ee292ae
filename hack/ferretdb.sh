#!/usr/bin/env bash
# ferretdb.sh prints the path of the FerretDB launcher binary (a MongoDB wire-protocol server
# on SQLite, used by the service tests and the local stack), building it first when needed.
#
# The launcher is the small module in hack/ferretdb (FerretDB's dependency tree stays out of
# the project's go.mod). It is built against a copy of FerretDB in which the files under
# hack/ferretdb/_patched replace the released ones (see the README there). The binary is
# cached outside the work tree, keyed by FerretDB version, and rebuilt when the launcher's
# sources or patches change. Cold build about 3.5 min on 2 cores (module cache +640 MB); warm
# rebuild about 15 s; cached binary: instant.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

FERRETDB_VERSION="v1.24.2"
SRC="$(cd "$(dirname "$0")/ferretdb" && pwd)"
DIR="${TOOLS_DIR}/ferretdb-${FERRETDB_VERSION}"
BIN="${DIR}/ferretdb-launcher"
STAMP="${DIR}/source.sha256"

PATCHED="${SRC}/_patched"

# The patches are part of the source: a changed copy rebuilds the launcher.
source_sum() {
	# shellcheck disable=SC2046 # the file list: paths without spaces, sorted for a stable sum
	(cd "${SRC}" && cat main.go go.mod go.sum $(find _patched -type f | LC_ALL=C sort)) | sha256sum | cut -d' ' -f1
}

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

log "building FerretDB ${FERRETDB_VERSION} launcher (hack/ferretdb, patched by hack/ferretdb/_patched) into ${DIR}"
log "  why: no cached launcher for these sources; about 3.5 min on 2 cores with empty Go caches, 15 s warm"
start=$(date +%s)
tmp="${BIN}.tmp.$$"
# A fixed place (we hold the lock), so that Go's build cache recognises the unchanged packages.
work="${DIR}/build"
rm -rf "${work}"
mkdir -p "${work}"
trap 'rm -f "${tmp}"; rm -rf "${work}"' EXIT
# The released FerretDB module (downloaded if need be), copied so that the patched files can
# replace its own; the module cache itself is read-only, and go build -overlay refuses it.
mod_dir=$(cd "${SRC}" && tool_go_env go mod download -json "github.com/FerretDB/FerretDB@${FERRETDB_VERSION}" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ ! -d "${mod_dir}" ]; then
	log "could not find FerretDB ${FERRETDB_VERSION} in the module cache (go mod download printed no Dir)"
	exit 1
fi
if ! (cd "${mod_dir}" && sha256sum --check --quiet "${PATCHED}/originals.sha256" >&2); then
	log "the released files differ from those hack/ferretdb/_patched was made from: see its README to update the copies"
	exit 1
fi
cp -R "${mod_dir}/." "${work}/FerretDB"
chmod -R u+w "${work}/FerretDB"
cp -R "${PATCHED}/internal/." "${work}/FerretDB/internal/"
# A temporary go.mod (and go.sum) with the replace, so that hack/ferretdb/go.mod stays as it is.
cp "${SRC}/go.mod" "${work}/launcher.mod"
cp "${SRC}/go.sum" "${work}/launcher.sum"
tool_go_env go mod edit -replace "github.com/FerretDB/FerretDB=${work}/FerretDB" "${work}/launcher.mod"
tool_go_env go build -C "${SRC}" -modfile "${work}/launcher.mod" -o "${tmp}" . >&2
mv -f "${tmp}" "${BIN}"
echo "${sum}" >"${STAMP}"
log "FerretDB launcher built in $(($(date +%s) - start)) s: ${BIN}"
echo "${BIN}"
