#!/usr/bin/env bash
# verify-generated.sh regenerates the CRD, RBAC, deepcopy and GraphQL code
# and fails, naming the files, when what is committed differs. Run `make manifests generate`.
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/lib.sh
CONTROLLER_GEN="${CONTROLLER_GEN:-$(hack/tool.sh controller-gen)}"
tmp=$(mktemp -d)
trap 'rm -rf "${tmp}"' EXIT

"${CONTROLLER_GEN}" rbac:roleName=manager-role crd paths="./api/...;./controllers/..." \
	output:crd:artifacts:config="${tmp}/crd" output:rbac:artifacts:config="${tmp}/rbac"
"${CONTROLLER_GEN}" object:headerFile=hack/boilerplate.go.txt paths="./api/..." output:object:dir="${tmp}/object"

stale=0
check() { # check GENERATED COMMITTED
	if ! diff -u "$2" "$1" >"${tmp}/diff" 2>&1; then
		echo "stale generated file: $2" >&2
		head -40 "${tmp}/diff" >&2
		stale=1
	fi
}
for f in "${tmp}"/crd/*.yaml; do check "$f" "config/crd/bases/$(basename "$f")"; done
check "${tmp}/rbac/role.yaml" config/rbac/role.yaml
check "${tmp}/object/zz_generated.deepcopy.go" api/v1alpha1/zz_generated.deepcopy.go
# gqlgen writes only where gqlgen.yml says: run it on the work tree, compare, and put the
# files back as they were, so that the check changes nothing.
graphql=(internal/gateway/graph/generated.go internal/gateway/graph/model/models_gen.go internal/gateway/graph/schema.resolvers.go)
mkdir -p "${tmp}/graphql"
for f in "${graphql[@]}"; do cp "$f" "${tmp}/graphql/$(basename "$f")"; done
(cd api/graphql && go tool gqlgen generate --config gqlgen.yml)
for f in "${graphql[@]}"; do
	check "$f" "${tmp}/graphql/$(basename "$f")"
	cp "${tmp}/graphql/$(basename "$f")" "$f"
done
if [ "${stale}" -ne 0 ]; then
	echo "generated files are stale: run 'make manifests generate' and commit the result" >&2
	exit 1
fi
echo "generated files are up to date"
