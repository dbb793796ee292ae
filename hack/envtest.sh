#!/usr/bin/env bash
# envtest.sh prints the folder that holds kube-apiserver, etcd and kubectl for envtest
# (the value for KUBEBUILDER_ASSETS), fetching or building them first when needed.
#
# Order of preference:
#   1. the cached folder, when each binary reports the wanted version (0.3 s);
#   2. setup-envtest's normal download (works where its release storage is reachable);
#   3. a build from the Go module proxy (about 11 min on 2 cores with empty Go caches,
#      about 25 s with warm caches).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

K8S_VERSION="${ENVTEST_K8S_VERSION:-1.37.2}"
ETCD_VERSION="${ENVTEST_ETCD_VERSION:-3.7.0}"
SETUP_ENVTEST_VERSION="${SETUP_ENVTEST_VERSION:-v0.25.1}"
ASSETS="${TOOLS_DIR}/envtest/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"

# have_assets checks the versions the binaries report. Their output is captured before it
# is matched: `cmd | grep -q` fails under pipefail when grep exits before cmd has written.
have_assets() {
	[ -x "$1/kube-apiserver" ] && [ -x "$1/etcd" ] && [ -x "$1/kubectl" ] || return 1
	local apiserver kubectl
	apiserver=$("$1/kube-apiserver" --version 2>/dev/null) || return 1
	kubectl=$("$1/kubectl" version --client 2>/dev/null) || return 1
	[ "${apiserver}" = "Kubernetes v${K8S_VERSION}" ] && [[ "${kubectl}" == *"v${K8S_VERSION}"* ]]
}

try_download() {
	local bin_dir="${TOOLS_DIR}/setup-envtest-${SETUP_ENVTEST_VERSION}"
	if [ ! -x "${bin_dir}/setup-envtest" ]; then
		log "building setup-envtest ${SETUP_ENVTEST_VERSION}"
		tool_go_env GOBIN="${bin_dir}" go install \
			"sigs.k8s.io/controller-runtime/tools/setup-envtest@${SETUP_ENVTEST_VERSION}" >&2 || return 1
	fi
	local dl="${TOOLS_DIR}/envtest/setup-envtest-store" dir
	log "trying setup-envtest download of Kubernetes ${K8S_VERSION}"
	dir=$(timeout 120 "${bin_dir}/setup-envtest" use "${K8S_VERSION}" --bin-dir "${dl}" -p path 2>/dev/null) || return 1
	[ -n "${dir}" ] && have_assets "${dir}" || return 1
	mkdir -p "${ASSETS}"
	cp "${dir}/kube-apiserver" "${dir}/etcd" "${dir}/kubectl" "${ASSETS}/"
}

build_from_proxy() {
	log "building kube-apiserver and kubectl v${K8S_VERSION} and etcd v${ETCD_VERSION} from the Go module proxy"
	log "  why: no cached binaries and no download; about 11 min on 2 cores with empty Go caches, under 1 min warm"
	go_wrapper_build "${ASSETS}" "$(k8s_ldflags "${K8S_VERSION}")" "k8s.io/kubernetes/cmd/kube-apiserver@v${K8S_VERSION}" \
		"k8s.io/kubernetes/cmd/kubectl@v${K8S_VERSION}" "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}"
}

if have_assets "${ASSETS}"; then
	echo "${ASSETS}"
	exit 0
fi
if [ "${ENVTEST_SKIP_DOWNLOAD:-}" != "1" ] && try_download; then
	log "envtest assets downloaded to ${ASSETS}"
else
	start=$(date +%s)
	build_from_proxy
	log "envtest assets built in $(($(date +%s) - start)) s: ${ASSETS}"
fi
have_assets "${ASSETS}" || { log "envtest assets in ${ASSETS} do not report v${K8S_VERSION}"; exit 1; }
echo "${ASSETS}"
