# kube-state-push: build, test, demo and benchmarks. `make help` lists the targets.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
GO      ?= go
DEMO_STATE ?= $(CURDIR)/.state/demo

.PHONY: help build test unit e2e bench bench-receivers bench-crs bench-resend microbench demo demo-stop components cluster-components image lint fuzz clean

help: ## Show this help.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## Build bin/kube-state-push (static, CGO off).
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/kube-state-push ./cmd/kube-state-push

components: ## Build and cache everything the tests run: the cluster's parts, Prometheus, KSM, helm, kubeconform, schemas and the receivers (Mimir, Cortex, Thanos, VictoriaMetrics, a Collector, Prometheus 2.42).
	./hack/build-components.sh

cluster-components: ## Build and cache what the demo and the benchmark run: the cluster's parts, Prometheus, KSM, helm and kubeconform.
	./hack/build-components.sh cluster

test: components ## Unit tests and the end-to-end suite against a real apiserver, Prometheus and the remote storages users run.
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

unit: ## Unit tests only (no cluster).
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

lint: ## golangci-lint (.golangci.yml) over ./...; the pinned version (hack/versions.sh) is built into the cache on first use.
	@lint=$$(./hack/tools.sh golangci-lint) && echo "$$lint run ./..." && "$$lint" run ./...

FUZZTIME ?= 30s

fuzz: ## Run each fuzz test (func FuzzXxx in a _test.go file) for FUZZTIME (default 30s), one after the other.
	@set -e; grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | grep -v -e '^./e2e/' -e '^./bench/' | \
	  sed 's|^\(.*\)/[^/]*_test.go:func |\1 |' | sort | while read -r dir f; do \
	    echo "== $$dir $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$dir; \
	  done

e2e: components ## The end-to-end suite only.
	$(GO) test -count=1 -timeout 30m -v ./e2e

BENCH_N ?= 1000,10000

bench: cluster-components ## Side-by-side benchmark against kube-state-metrics + Prometheus agent (BENCH_N or N pods; the bench's sink receiver from 20,000); writes docs/benchmarks.md, .json and .png.
	$(GO) run ./bench -n $(or $(N),$(BENCH_N))

BENCH_RECEIVERS_N ?= 1000

bench-receivers: components ## What Mimir, Cortex, Thanos, VictoriaMetrics and the OTel Collector cost per sample (BENCH_RECEIVERS_N pods); writes docs/benchmarks-receivers.md.
	$(GO) run ./bench -receivers -n $(BENCH_RECEIVERS_N)

BENCH_CRS_N ?= 10000

bench-crs: cluster-components ## Custom resources: kube-state-push against kube-state-metrics, same config, BENCH_CRS_N objects of 50 series; writes its section of docs/benchmarks.md.
	$(GO) run ./bench -crs -n $(BENCH_CRS_N)

BENCH_RESEND_N ?= 10000

bench-resend: cluster-components ## Ingestion cost: kube-state-push at --resend-interval 30s, 1m, 2m, 4m against KSM scraped every 30 s (BENCH_RESEND_N pods); writes its section of docs/benchmarks.md.
	$(GO) run ./bench -resend -n $(BENCH_RESEND_N)

microbench: ## Micro-benchmarks of the hot paths (compare runs with benchstat).
	$(GO) test -run '^$$' -bench . -benchmem -count $(or $(COUNT),1) $$($(GO) list ./... | grep -v -e /e2e -e /bench)

demo: build cluster-components ## Start a local cluster and Prometheus, create workloads, run the agent.
	./hack/demo.sh up $(DEMO_STATE)

demo-stop: ## Stop everything `make demo` started.
	./hack/demo.sh down $(DEMO_STATE)

image: ## Build the container image (needs a container engine).
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t kube-state-push:$(VERSION) .

clean: ## Remove build output.
	rm -rf bin
