#!/usr/bin/env bash
# test-cluster.sh is `make test-cluster`: the chart on a real single-node cluster.
#   1. brings the cluster up (hack/cluster.sh) and imports the image `make image` built;
#   2. installs the chart with the ferretdb engine (helm --wait: every Deployment, the gateway
#      included, Ready);
#   3. runs the e2e suite's cluster specs against the release: the manager calls the services
#      by their in-cluster DNS names, pods are deleted mid-run, helm test, RBAC and the
#      containers' confinement as the kernel reports it;
#   4. then the release's lifecycle specs, in order: helm upgrade, namespace-scoped RBAC,
#      helm uninstall;
#   5. takes the cluster down (KEEP_CLUSTER=1 leaves it up, with .cluster/kubeconfig).
# Needs Linux and root (hack/cluster.sh can-run says why not).
set -euo pipefail
cd "$(dirname "$0")/.."
. hack/lib.sh

RELEASE="${RELEASE:-ordersaga}"
NAMESPACE="${NAMESPACE:-shop}"
IMAGE_REPOSITORY="${IMAGE_REPOSITORY:-ordersaga.local/ordersaga}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
ARCHIVE="bin/ordersaga-image.tar"

hack/cluster.sh can-run

begin=$(date +%s)
timings=()
step() { # step NAME CMD...: runs CMD and records how long it took
	local name=$1 t
	shift
	t=$(date +%s)
	log "== ${name}"
	"$@"
	timings+=("$(printf '%-28s %4d s' "${name}" "$(($(date +%s) - t))")")
}
finish() {
	local rc=$?
	if [ "${rc}" != 0 ] && [ -s .cluster/kubeconfig ]; then
		log "what the cluster looked like when it failed:"
		kubectl_ get pods -A -o wide >&2 || true
		kubectl_ get events -n "${NAMESPACE}" --sort-by=.lastTimestamp 2>&1 | tail -40 >&2 || true
	fi
	if [ "${KEEP_CLUSTER:-}" = "1" ]; then
		log "KEEP_CLUSTER=1: the cluster stays up; export KUBECONFIG=${PWD}/.cluster/kubeconfig; hack/cluster.sh down ends it"
	else
		step "cluster down" hack/cluster.sh down || rc=1
	fi
	printf '%s\n' "${timings[@]}" >&2
	log "make test-cluster $([ "${rc}" = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - begin)) s"
	exit "${rc}"
}
trap finish EXIT

ASSETS=$(hack/envtest.sh)
HELM=$(hack/tool.sh helm)
export KUBECONFIG="${PWD}/.cluster/kubeconfig"
kubectl_() { "${ASSETS}/kubectl" "$@"; }

step "image" make --no-print-directory image IMAGE_REPOSITORY="${IMAGE_REPOSITORY}" VERSION="${VERSION}"
step "cluster up" hack/cluster.sh up
step "image import" hack/cluster.sh load "${PWD}/${ARCHIVE}"
step "helm install" "${HELM}" upgrade --install "${RELEASE}" charts/ordersaga -n "${NAMESPACE}" --create-namespace \
	--values test/e2e/testdata/cluster-values.yaml \
	--set image.repository="${IMAGE_REPOSITORY}" --set-string image.tag="${VERSION}" --wait --timeout 5m

e2e() { # e2e LABEL-FILTER: the e2e suite against the release
	E2E_TARGET=cluster E2E_NODE_LOCAL=1 E2E_HELM="${HELM}" E2E_RELEASE="${RELEASE}" E2E_NAMESPACE="${NAMESPACE}" \
		KUBEBUILDER_ASSETS="${ASSETS}" go test ./test/e2e -count=1 -timeout 40m -v -ginkgo.v -ginkgo.no-color \
		-ginkgo.label-filter="$1"
}
step "e2e specs on the release" e2e '(cluster || cluster-only) && !chart-lifecycle'
step "upgrade, RBAC, uninstall" e2e 'chart-lifecycle'
