// Package chart holds the tests of the packaging: the Helm chart in charts/ordersaga and the
// kustomize configuration in config/default. They lint the chart, send every rendering to a
// real kube-apiserver (envtest) with server-side dry-run, install the chart there with helm,
// check that the chart's CRD and RBAC are the generated ones, and run the real binaries with
// the rendered arguments and environment.
//
// The tests need KUBEBUILDER_ASSETS (`make test` sets it); helm and kustomize come from
// hack/tool.sh, which builds them into the tool cache on first use.
package chart
