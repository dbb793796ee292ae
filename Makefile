# OrderSaga — a Kubernetes operator that runs e-commerce order sagas.
# Every tool is pinned and cached outside the work tree (see hack/lib.sh); the first run
# on a new machine builds what it cannot download and says how long that takes.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
export GOTOOLCHAIN := local

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
IMAGE_REPOSITORY ?= ghcr.io/ordersaga/ordersaga
IMG ?= $(IMAGE_REPOSITORY):$(VERSION)
# IMAGE_ARCHIVE is what `make image` writes: an OCI layout and a docker-archive in one tarball.
IMAGE_ARCHIVE ?= $(BIN_DIR)/ordersaga-image.tar
REGISTRY ?=
CONTAINER_TOOL ?= docker
GO_LDFLAGS := -s -w -X main.version=$(VERSION)
GO_BUILD := CGO_ENABLED=0 go build -ldflags "$(GO_LDFLAGS)"
# -count=1: the e2e and demo tests run binaries built from packages they do not import,
# so Go's test cache could replay a pass after those binaries changed.
GO_TEST_FLAGS ?= -count=1 -timeout 30m
BENCH_SAGAS ?= 500
# The benchmark's long modes (test/bench): see `make help` and test/bench/doc.go.
BENCH_WINDOW ?= 20s
BENCH_LATENCY_SAGAS ?= 2000
BENCH_MEMORY_SAGAS ?= 10000
# BENCH_FLAGS adds -bench.* flags to every bench target, e.g. BENCH_FLAGS=-bench.admission.
BENCH_FLAGS ?=
BENCH_RUN = KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/bench -count=1 -run '^$$' -bench BenchmarkOrderSaga -benchtime 1x
BIN_DIR ?= bin
HELM_RELEASE ?= ordersaga
HELM_NAMESPACE ?= shop
HELM_VALUES ?=

CONTROLLER_GEN = $(shell hack/tool.sh controller-gen)
KUSTOMIZE = $(shell hack/tool.sh kustomize)
HELM = $(shell hack/tool.sh helm)
GOLANGCI_LINT = $(shell hack/tool.sh golangci-lint)
ENVTEST_ASSETS = $(shell hack/envtest.sh)
# KUBECTL is the cluster client for install/deploy; the envtest kubectl is the fallback.
KUBECTL ?= $(shell command -v kubectl 2>/dev/null || echo "$$(hack/envtest.sh)/kubectl")

CRD_PATHS := ./api/...;./controllers/...

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Run it

.PHONY: demo
demo: ## The whole system on this machine: samples applied, table printed, consistency checked, then stopped.
	go build -o bin/localstack ./cmd/localstack && exec bin/localstack demo

.PHONY: run-local
run-local: ## The whole system in the foreground until Ctrl-C; writes .local/env for kubectl in another shell.
	go build -o bin/localstack ./cmd/localstack && exec bin/localstack run

##@ Development

.PHONY: manifests
manifests: ## Generate the CRD and RBAC manifests from the API markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="$(CRD_PATHS)" \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	hack/chart-sync.sh

.PHONY: generate
generate: ## Generate DeepCopy methods for the API types, and the gateway's GraphQL code from api/graphql/schema.graphqls.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."
	cd api/graphql && go tool gqlgen generate --config gqlgen.yml

.PHONY: verify-generated
verify-generated: ## Fail when generated files (CRD, RBAC, deepcopy, GraphQL) are stale.
	CONTROLLER_GEN="$(CONTROLLER_GEN)" hack/verify-generated.sh

.PHONY: fmt
fmt: ## Run gofmt on the code.
	gofmt -l -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet and fail on unformatted files.
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "not gofmt-clean:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

.PHONY: lint
lint: ## Run golangci-lint (.golangci.yml: linters, the cognitive-complexity gate, gofmt and goimports).
	$(GOLANGCI_LINT) run ./...

.PHONY: test
test: lint verify-generated vet ## Run every test: unit, envtest controller and API, services on a Mongo wire server, chart, demo, e2e, then the chart on a real cluster where it can.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) $$(go list ./... | grep -v /test/e2e) -coverprofile cover.out
	@# The e2e suite runs alone: its timing-sensitive chaos scenarios must not share the two cores with other suites.
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test $(GO_TEST_FLAGS) ./test/e2e
	@# The chart on a real cluster needs Linux and root; in CI (CI set) it must run, never skip.
	@if reason=$$(hack/cluster.sh can-run 2>&1); then $(MAKE) --no-print-directory test-cluster; \
	elif [ -n "$${CI:-}" ]; then echo "CI is set, and the cluster tests cannot run here: $$reason" >&2; exit 1; \
	else echo "cluster tests skipped (make test-cluster): $$reason"; fi

.PHONY: test-cluster
test-cluster: ## The chart on a real single-node cluster (Linux, root): image, helm install, the e2e specs on real pods, upgrade, uninstall.
	hack/test-cluster.sh

.PHONY: test-e2e
test-e2e: ## Run the end-to-end and chaos suite on the local stack (real kubectl, services, faults; ~3-4 min warm).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/e2e -v -timeout 30m -ginkgo.label-filter=e2e -ginkgo.no-color

.PHONY: measure-e2e
measure-e2e: ## Measure sagas/s and p50/p99 latency through the whole stack (100 sagas, concurrency 20, with and without faults).
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/e2e -v -timeout 30m -ginkgo.label-filter=measure -ginkgo.no-color

SEEDS ?= 100000
SEED ?=

.PHONY: sim
sim: ## Run the fault-schedule simulator long (SEEDS=n schedules of each kind), or replay one (SEED=n) and print it; KIND=ordersaga or KIND=saga runs one kind of saga, else both.
ifneq ($(SEED),)
	go test ./test/sim -count=1 -timeout 0 -run TestReplay -v -sim.seed=$(SEED) -sim.kind=$(or $(KIND),both)
else
	go test ./test/sim -count=1 -timeout 0 -run 'TestSchedules|TestRegressions' -v -sim.seeds=$(SEEDS) -sim.kind=$(or $(KIND),both)
endif

.PHONY: bench
bench: ## Closed loop of BENCH_SAGAS sagas (manager in process and as cmd/manager) against the API server's create and create+status ceilings: sagas/s, latency, requests and CPU per saga.
	$(BENCH_RUN) -timeout 30m -bench.mode=closed -bench.sagas=$(BENCH_SAGAS) $(BENCH_FLAGS)

.PHONY: bench-openloop
bench-openloop: ## Long: search the saturation rate with open-loop arrivals (BENCH_WINDOW each), then p50/p99/max latency at 25, 50, 75 and 90 % of it.
	$(BENCH_RUN) -timeout 3h -bench.mode=openloop -bench.sagas=$(BENCH_SAGAS) -bench.window=$(BENCH_WINDOW) $(BENCH_FLAGS)

.PHONY: bench-latency
bench-latency: ## Long: sagas/s, manager CPU and RSS against workers (32…1024) with services answering after 0, 20 and 200 ms (BENCH_LATENCY_SAGAS per cell).
	$(BENCH_RUN) -timeout 3h -bench.mode=latency -bench.sagas=$(BENCH_LATENCY_SAGAS) $(BENCH_FLAGS)

.PHONY: bench-memory
bench-memory: ## Long: cmd/manager's RSS and Go heap with BENCH_MEMORY_SAGAS finished sagas in its cache.
	$(BENCH_RUN) -timeout 3h -bench.mode=memory -bench.memory-sagas=$(BENCH_MEMORY_SAGAS) $(BENCH_FLAGS)

.PHONY: bench-replicas
bench-replicas: ## Closed loop of BENCH_SAGAS sagas on 1, 2 and 3 cmd/manager replicas (--shards): sagas/s, latency, and each replica's reconciles, CPU and RSS.
	$(BENCH_RUN) -timeout 1h -bench.mode=replicas -bench.sagas=$(BENCH_SAGAS) $(BENCH_FLAGS)

##@ Build

.PHONY: bench-gateway
bench-gateway: ## The gateway's list with 10,000 sagas in its cache: a page of 50 (first, deep, filtered) against copying the 10,000 out.
	go test ./internal/gateway/graph -count=1 -run '^$$' -bench BenchmarkOrdersPageOf10000 -benchmem

.PHONY: build
build: ## Build the image's static programs into $(BIN_DIR)/: manager, services, gateway, sagactl and the FerretDB launcher.
	$(GO_BUILD) -o $(BIN_DIR)/ ./cmd/manager ./cmd/services ./cmd/gateway ./cmd/sagactl
	@# The launcher is its own module (hack/ferretdb), built once and cached; see hack/ferretdb.sh.
	cp "$$(hack/ferretdb.sh)" $(BIN_DIR)/ferretdb

.PHONY: image
image: build ## Build the image without a daemon (FROM scratch, non-root) into $(IMAGE_ARCHIVE), tagged $(IMG).
	go run ./hack/image -product -bin $(BIN_DIR) -ref $(IMG) -version $(VERSION) \
		-revision "$$(git rev-parse HEAD 2>/dev/null)" -o $(IMAGE_ARCHIVE)

.PHONY: image-push
image-push: image ## Push the image to $(REGISTRY)/ordersaga:$(VERSION) (credentials from ~/.docker/config.json).
	@test -n "$(REGISTRY)" || { echo "set REGISTRY, for example make image-push REGISTRY=registry.example.com/team"; exit 2; }
	go run ./hack/image -push -ref $(REGISTRY)/ordersaga:$(VERSION) $(IMAGE_ARCHIVE)

.PHONY: run
run: manifests generate ## Run the manager against the cluster in ~/.kube/config (or $KUBECONFIG).
	go run ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the container image (needs a Docker engine).
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests ## Install the CRD into the cluster in ~/.kube/config.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: ## Remove the CRD (and every OrderSaga) from the cluster.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: deploy
deploy: manifests ## Deploy the operator (CRD, RBAC, manager, finalizer admission policy) with kustomize, image $(IMG).
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -
	$(KUSTOMIZE) build config/admission | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove what deploy created.
	$(KUSTOMIZE) build config/admission | $(KUBECTL) delete --ignore-not-found -f -
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

##@ Helm

.PHONY: helm-lint
helm-lint: ## Lint the Helm chart (helm lint --strict) with its defaults and each alternative in charts/ordersaga/ci/.
	$(HELM) lint --strict charts/ordersaga
	for f in charts/ordersaga/ci/*.yaml; do $(HELM) lint --strict charts/ordersaga --values "$$f"; done

.PHONY: helm-template
helm-template: ## Render the Helm chart, CRDs included (HELM_VALUES=charts/ordersaga/ci/replica-set-values.yaml for an alternative).
	$(HELM) template $(HELM_RELEASE) charts/ordersaga --namespace $(HELM_NAMESPACE) --include-crds $(if $(HELM_VALUES),--values $(HELM_VALUES))

##@ Tools

.PHONY: tools
tools: ## Fetch or build every pinned tool into the cache (envtest assets, controller-gen, kustomize, helm, golangci-lint, FerretDB, and where it can run the cluster's binaries); install Debian's chromium for the browser tests.
	@echo "envtest: $(ENVTEST_ASSETS)"
	@echo "controller-gen: $(CONTROLLER_GEN)"
	@echo "kustomize: $(KUSTOMIZE)"
	@echo "helm: $(HELM)"
	@echo "golangci-lint: $(GOLANGCI_LINT)"
	@echo "ferretdb launcher: $$(hack/ferretdb.sh)"
	@# The browser tests' headless Chromium: Debian's package, installed as root when missing.
	@echo "chromium: $$(hack/chromium.sh || echo 'missing: the browser tests cannot run')"
	@# The real cluster's node binaries and CoreDNS, only where make test will run the cluster.
	@if hack/cluster.sh can-run 2>/dev/null; then hack/cluster.sh build && echo "cluster binaries: ready"; fi
