// Package e2e is the end-to-end and chaos suite of OrderSaga. It starts the local stack
// once (a real kube-apiserver and etcd, a Mongo-compatible server, the five services and
// the manager on loopback) and drives it only through the interfaces a shop has: the real
// kubectl binary, the services' HTTP APIs, sagactl, and process signals. Every scenario
// uses its own namespace and its own products, and checks the invariants that matter to
// the shop: no unit of stock and no cent of money lost, whatever broke.
//
// Run it alone with
//
//	KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./test/e2e -ginkgo.label-filter=e2e -ginkgo.v
//
// and only the throughput and latency measurements with -ginkgo.label-filter=measure.
// Set E2E_KEEP_STATE=1 to keep the stack's state directory (logs, kubeconfig) afterwards.
//
// With E2E_TARGET=cluster the same specs labelled "cluster", and the "cluster-only" ones
// (pods deleted mid-run, helm test, RBAC and the containers' confinement, then with label
// "chart-lifecycle" upgrade and uninstall), drive a chart release on a real cluster instead:
// KUBECONFIG, E2E_RELEASE, E2E_NAMESPACE, E2E_HELM and E2E_NODE_LOCAL say where and how.
// make test-cluster (hack/test-cluster.sh) sets them all; target_test.go explains the rest.
// The stack runs on FerretDB unless MONGO_TEST_URI names a real MongoDB; the contention
// and unknown-outcome specs hold on both (the inventory serializes its own writes per
// document, see services/inventory/locks.go).
package e2e
