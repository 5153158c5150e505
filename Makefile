# crashlens — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X main.version=$(VERSION)
CLUSTER     := hack/cluster
CLUSTERCTL  := $(CLUSTER)/bin/clusterctl
KUBECONFIG_PATH := /var/lib/crashlens-cluster/kubeconfig
# Pinned linter, run through the module proxy (no global install).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
comma := ,
# Integration tests run with a short kubelet back-off so crash loops turn fast.
TEST_BACKOFF_CAP := 10s
# The fleet tests watch these control-plane-only clusters beside the full one.
FLEET_INSTANCES := fleet-a,fleet-b
# BenchmarkFleet: nine control-plane-only clusters beside the bench cluster.
BENCH_INSTANCES := bench-1,bench-2,bench-3,bench-4,bench-5,bench-6,bench-7,bench-8,bench-9

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/crashlens (and bin/kubectl-crashlens, the kubectl plugin)
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/crashlens .
	ln -sf crashlens bin/kubectl-crashlens

PREFIX ?= $(HOME)/.local

.PHONY: install
install: build ## Install crashlens and the kubectl plugin (kubectl-crashlens) into $(PREFIX)/bin (default ~/.local/bin)
	install -d $(PREFIX)/bin
	install -m 0755 bin/crashlens $(PREFIX)/bin/crashlens
	ln -sf crashlens $(PREFIX)/bin/kubectl-crashlens
	@case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo "add $(PREFIX)/bin to your PATH (kubectl finds plugins there)";; esac

.PHONY: deps
deps: ## Install missing Debian packages (containerd, runc, CNI plugins, busybox-static, iptables, tmux)
	@hack/deps.sh

.PHONY: cluster-build
cluster-build: ## Build the pinned v1.36.3 cluster binaries into hack/cluster/bin (only when missing or stale)
	@$(CLUSTER)/build.sh

.PHONY: cluster-up
cluster-up: deps cluster-build ## Start the single-node test cluster (BACKOFF_CAP=10s shortens the kubelet back-off)
	@$(CLUSTERCTL) up $(if $(BACKOFF_CAP),--backoff-cap $(BACKOFF_CAP))
	@echo "export KUBECONFIG=$(KUBECONFIG_PATH)"

.PHONY: cluster-down
cluster-down: ## Stop the test cluster and undo every host change it made
	@if [ -x $(CLUSTERCTL) ]; then $(CLUSTERCTL) down; else echo "no cluster tooling built; nothing to stop"; fi

.PHONY: fmt-check
fmt-check: ## Fail when gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every build tag the tests use: vet and lint compile each of them, so a
# test file behind a tag cannot rot unseen.
TEST_TAGS := integration fault scale

.PHONY: vet
vet: ## go vet both modules, without tags and with each test tag
	go vet ./...
	@set -e; for tag in $(TEST_TAGS); do echo "go vet -tags $$tag ./..."; go vet -tags $$tag ./...; done
	cd $(CLUSTER) && go vet . ./pause && go vet -tags integration .

.PHONY: lint
lint: ## Run the pinned staticcheck on both modules, without tags and with every test tag
	go run $(STATICCHECK) ./...
	go run $(STATICCHECK) -tags $(subst $(eval) ,$(comma),$(TEST_TAGS)) ./...
	cd $(CLUSTER) && go run $(STATICCHECK) . ./pause && go run $(STATICCHECK) -tags integration .

.PHONY: unit
unit: ## Unit tests (no cluster), with the race detector
	go test -race -count=1 ./...

.PHONY: integration
integration: ## Integration tests; expects CRASHLENS_KUBECONFIG (use `make test`)
	@# The end-to-end tests of the root package take 17 to 25 minutes on 2 cores
	@# beside the catalogue's crash loops, and one run on a loaded machine took
	@# over 40: past go test's default 10 m.
	go test -race -count=1 -timeout 50m -tags integration ./...
	cd $(CLUSTER) && go test -race -count=1 -tags integration .
	@# Fault tests break the cluster for everyone: on their own, last, one package at a time.
	@# The root package's take 4 to 11 minutes on 2 cores beside the catalogue's
	@# crash loops (each builds the binary under load): past go test's default 10 m.
	go test -race -count=1 -p 1 -timeout 30m -tags fault -run '^TestFault' ./kube/... .

.PHONY: test
test: deps cluster-build fmt-check vet lint unit ## Everything CI runs: checks, unit tests, then integration tests on a real cluster
	$(CLUSTERCTL) with --backoff-cap $(TEST_BACKOFF_CAP) --also $(FLEET_INSTANCES) -- $(MAKE) --no-print-directory integration
	@left=$$(ps -eo pid=,stat=,args= | awk '$$2 !~ /^Z/ && /[e]tcd|[k]ube-|[k]ubelet|[c]ontainerd|[c]rashlens-cluster/'); \
	  if [ -n "$$left" ]; then echo "processes left behind:"; echo "$$left"; exit 1; fi
	@echo "make test: all passed; no cluster process left"

.PHONY: demo
demo: ## Start the embedded cluster, apply every scenario, show them (the cluster stays up; `make demo-down` removes it)
	@# The first line says what is coming before anything quiet and long
	@# runs (the first build of bin/crashlens downloads its modules without
	@# a word); the cluster binaries' 13 minutes only when one is missing
	@# (hack/cluster/build.sh says so itself when it has to build).
	@missing=; for b in etcd kube-apiserver kubectl kube-scheduler kube-controller-manager kubelet; do \
	  [ -x $(CLUSTER)/bin/$$b ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "==> make demo: builds bin/crashlens (the first time, Go downloads its modules quietly), then the embedded cluster's Kubernetes binaries (first run: about 13 minutes on 2 cores), then starts the cluster and applies the scenarios (about 3 minutes)"; \
	else \
	  echo "==> make demo: builds bin/crashlens, starts the embedded cluster and applies the scenarios (about 3 minutes)"; \
	fi
	@$(MAKE) --no-print-directory build
	@bin/crashlens demo
	@bin/crashlens --kubeconfig $(KUBECONFIG_PATH)

.PHONY: demo-down
demo-down: ## Remove the demo cluster and undo its host changes
	@if [ -x bin/crashlens ]; then bin/crashlens demo --down; else $(MAKE) --no-print-directory cluster-down; fi

.PHONY: screenshots
screenshots: build cluster-build ## Regenerate screenshots/*.png from the running demo cluster (run `make demo` first); two control-plane-only clusters join it for the fleet picture
	$(CLUSTERCTL) --instance shoot-east up --control-plane-only
	$(CLUSTERCTL) --instance shoot-west up --control-plane-only
	go run ./hack/shoot -kubeconfig $(KUBECONFIG_PATH) -bin bin/crashlens -out screenshots \
		-fleet "$(KUBECONFIG_PATH):$$($(CLUSTERCTL) --instance shoot-east kubeconfig):$$($(CLUSTERCTL) --instance shoot-west kubeconfig)"; \
		rc=$$?; $(CLUSTERCTL) --instance shoot-east down; $(CLUSTERCTL) --instance shoot-west down; exit $$rc

.PHONY: bench
bench: deps cluster-build ## Benchmarks: UI, watcher, ledger and recorder micro-benchmarks, then the watcher and the recorder at scale on control-plane-only clusters (see */BENCHMARKS.md)
	go test -run='^$$' -bench=. -benchmem ./ui ./kube/... ./ledger
	go test -run='^$$' -bench=. -benchmem -benchtime=20x -timeout=30m ./monitor
	$(CLUSTERCTL) with --control-plane-only --also $(BENCH_INSTANCES) -- go test -tags scale -run='^$$' -bench='BenchmarkFleet' -benchtime=1x -timeout=60m ./kube/clusters
	$(CLUSTERCTL) with --control-plane-only -- go test -tags scale -run='^$$' -bench='BenchmarkScale' -benchtime=1x -timeout=90m ./kube/podwatch
	@# The recorder's captures when 500 pods crash at once, on a cluster of its own (the scale pods' crashes would be captured first).
	$(CLUSTERCTL) with --control-plane-only -- go test -tags scale -run='^$$' -bench='BenchmarkCaptureBurst' -benchtime=1x -timeout=30m ./monitor

.PHONY: clean
clean: cluster-down ## Remove build output (keeps the cluster binaries; rm -rf hack/cluster/bin for those)
	rm -rf bin
