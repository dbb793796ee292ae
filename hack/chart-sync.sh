#!/usr/bin/env bash
# chart-sync.sh copies the generated manifests the Helm chart must carry verbatim:
#   config/crd/bases/*.yaml -> charts/ordersaga/crds/          (Helm installs crds/ before templates)
#   config/rbac/role.yaml   -> charts/ordersaga/files/manager-role.yaml
#                              (the rules of the chart's ClusterRole or Role are read from it)
# `make manifests` runs it after controller-gen; test/chart checks the copies are byte-identical.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
chart="${root}/charts/ordersaga"

mkdir -p "${chart}/crds" "${chart}/files"
# Drop CRDs that controller-gen no longer generates, then copy the current ones.
for f in "${chart}"/crds/*.yaml; do
	[ -e "${f}" ] || continue
	[ -e "${root}/config/crd/bases/$(basename "${f}")" ] || rm -f "${f}"
done
cp "${root}"/config/crd/bases/*.yaml "${chart}/crds/"
cp "${root}/config/rbac/role.yaml" "${chart}/files/manager-role.yaml"
