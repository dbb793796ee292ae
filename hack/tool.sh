#!/usr/bin/env bash
# tool.sh NAME prints the path of a pinned Go-installable tool, building it into the
# cache (outside the work tree, keyed by name and version) the first time.
# Measured on 2 cores with empty caches: controller-gen ~50 s, kustomize ~20 s, helm ~2.5 min.
# golangci-lint took 15 min wall with empty caches, but on a 2-core machine at load
# average ~16 (6 min of CPU: 265 s user, 98 s system), so expect ~4 min on idle cores.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name="${1:?usage: tool.sh controller-gen|kustomize|helm|golangci-lint}"
case "${name}" in
controller-gen) version="${CONTROLLER_TOOLS_VERSION:-v0.23.0}" pkg="sigs.k8s.io/controller-tools/cmd/controller-gen" ;;
kustomize) version="${KUSTOMIZE_VERSION:-v5.8.2}" pkg="sigs.k8s.io/kustomize/kustomize/v5" ;;
helm) version="${HELM_VERSION:-v3.22.0}" pkg="helm.sh/helm/v3/cmd/helm" ;;
golangci-lint) version="${GOLANGCI_LINT_VERSION:-v2.15.0}" pkg="github.com/golangci/golangci-lint/v2/cmd/golangci-lint" ;;
*) log "unknown tool ${name}"; exit 2 ;;
esac

dir="${TOOLS_DIR}/${name}-${version}"
if [ ! -x "${dir}/${name}" ]; then
	log "building ${name} ${version} into ${dir} (first use on this machine; cached afterwards)"
	start=$(date +%s)
	tool_go_env GOBIN="${dir}" go install "${pkg}@${version}" >&2
	log "built ${name} in $(($(date +%s) - start)) s"
fi
echo "${dir}/${name}"
