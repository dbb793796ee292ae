// Package api holds the tests of the generic saga API's CRDs, SagaDefinition and Saga, on a
// real kube-apiserver (envtest) with the CRDs from config/crd/bases: what the API server
// refuses (naming the field), what it defaults, what it lets change after creation, and how
// kubectl lists the kinds. No manager runs. OrderSaga's CRD is tested in controllers/.
//
// The tests need KUBEBUILDER_ASSETS (`make test` sets it; by hand:
// KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./test/api/).
package api
