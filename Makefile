# daytwo — see README.md. Everything a clean clone needs is installed from here.
SHELL := /bin/bash
GO ?= go
BIN := bin/daytwo
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/daytwo-dev/daytwo/internal/server.Version=$(VERSION)
STATICCHECK_VERSION := v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin
PKGS := ./...
FUZZTIME ?= 2m

.PHONY: all build test lint demo bench fuzz deps clean chaos image image-deps size

all: build

# Static (CGO_ENABLED=0): kustomize imports Go's plugin package, which with cgo makes the
# binary dynamic and exports every symbol (about 23 MB more); the image runs this binary.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/app

# System packages the tests use: git for the local GitOps adapter, redis-server for the
# coordination tests against a real Redis (crash survival, ACL, Redis 7's stream lag),
# chromium for the browser test of `daytwo setup`.
deps:
	@missing=""; for c in git:git redis-server:redis-server chromium:chromium; do \
	  command -v $${c%%:*} >/dev/null || missing="$$missing $${c#*:}"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; fi

test: deps
	$(GO) test -count=1 $(PKGS)

lint: $(GOBIN)/staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet $(PKGS)
	$(GOBIN)/staticcheck $(PKGS)

$(GOBIN)/staticcheck:
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# The main job on the bundled example, in a throwaway clone: validate, then plan and apply a
# promotion, a scale, a restart and a new service (validated on its branch). Each apply
# leaves a branch; HEAD stays untouched. Then a scale of examples/shared-bases, which has no
# config: the workload comes from the render.
demo: build deps
	@set -e; d="$${DEMO_DIR:-$$(mktemp -d -t daytwo-demo-XXXXXX)}"; cp -R examples/gitops/. "$$d"; cd "$$d"; \
	git init -q -b main; git add -A; \
	git -c user.name=demo -c user.email=demo@example.com commit -q -m "example GitOps repo"; \
	bin="$(CURDIR)/$(BIN)"; \
	echo "== daytwo validate (in $$d)"; "$$bin" validate --repo .; \
	echo; echo "== daytwo plan \"/promote staging --service checkout\""; \
	"$$bin" plan --repo . --as alice "/promote staging --service checkout"; \
	echo; echo "== daytwo apply \"/promote staging --service checkout\""; \
	"$$bin" apply --repo . --as alice "/promote staging --service checkout" | tail -n 2; \
	echo; echo "== daytwo apply \"/scale 5 --service checkout --env prod\""; \
	"$$bin" apply --repo . --as bob "/scale 5 --service checkout --env prod" | tail -n 2; \
	echo; echo "== daytwo apply \"/scale 5 --for 2h --service checkout --env staging\" (time-boxed)"; \
	"$$bin" apply --repo . --as erin "/scale 5 --for 2h --service checkout --env staging" | grep -E '^(scale|expires|branch)'; \
	git --no-pager log -1 --format='%(trailers:key=Daytwo-Expires,key=Daytwo-Command)' "$$(git branch --list --format='%(refname:short)' 'daytwo/_for/*')"; \
	echo; echo "== daytwo apply \"/restart --service payments --env prod\""; \
	"$$bin" apply --repo . --as carol "/restart --service payments --env prod" | tail -n 2; \
	echo; echo "== daytwo apply \"/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0\""; \
	"$$bin" apply --repo . --as dana "/new-service ledger --owner acme/payments-team --image ghcr.io/acme/ledger:0.1.0" | grep -E '^(note|\+\+\+ b/|branch|commit)'; \
	echo; echo "== daytwo validate on the new service's branch"; \
	"$$bin" validate --repo . --rev "$$(git branch --list --format='%(refname:short)' 'daytwo/ledger/*')" | grep -E 'valid|ledger'; \
	echo; echo "== branches written (HEAD unchanged: $$(git rev-parse --short HEAD))"; \
	git --no-pager log --branches='daytwo/*' --format='%h %s%n%(trailers:key=Daytwo-Requester,key=Daytwo-Command)' ; \
	git status --short | grep . && { echo "working tree changed"; exit 1; } || true; \
	s="$$(mktemp -d -t daytwo-demo-XXXXXX)"; cp -R "$(CURDIR)/examples/shared-bases/." "$$s"; cd "$$s"; \
	git init -q -b main; git add -A; git -c user.name=demo -c user.email=demo@example.com commit -q -m "no daytwo config"; \
	echo; echo "== examples/shared-bases (no config; in $$s): daytwo plan \"/scale 4 --service ledger --env staging\""; \
	"$$bin" plan --repo . --as alice "/scale 4 --service ledger --env staging" | sed -n '1,3p;/^## Rendered/,$$p'

# --- Container image, without a Docker daemon (internal/image; README "Container image") ---
# The tag is the images: entry ghcr.io/daytwo-dev/daytwo of IMAGE_KUSTOMIZATION; every time
# in the image is the commit's, so the same commit gives the same digest.
IMAGE_DIR := bin/image
IMAGE_KUSTOMIZATION ?= manifests/base/kustomization.yaml
CA_CERTS := /etc/ssl/certs/ca-certificates.crt
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

# Debian's CA bundle, copied into the image.
image-deps:
	@[ -f $(CA_CERTS) ] || { apt-get update -qq && apt-get install -y -qq --no-install-recommends ca-certificates; }

image: build image-deps
	$(GO) run ./internal/image/mkimage -binary $(BIN) -ca-certs $(CA_CERTS) -kustomization $(IMAGE_KUSTOMIZATION) \
	  -version $(VERSION) -revision $(REVISION) -source-date-epoch $(SOURCE_DATE_EPOCH) -out $(IMAGE_DIR)

# The binary's size and the image's compressed size (layers + config); fails over 90 MB / 35 MB.
size: image
	@$(GO) run ./internal/image/mkimage -size -binary $(BIN) -out $(IMAGE_DIR) -max-binary-mb 90 -max-image-mb 35

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 $(PKGS)

# Each fuzz target for FUZZTIME (go test runs one target per invocation).
fuzz:
	@set -e; for pkg in $$($(GO) list ./internal/...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf bin

# The chaos test on real parts (test/chaos): three replicas of the real binary behind a
# round-robin proxy, killed with SIGKILL and restarted every few seconds, on a redis-server
# (AOF on) crashed once, and the test GitHub with faults, under 200 commands; it checks that
# none is lost or acted on twice and prints comment → PR latencies. CHAOS_SEED=N repeats a
# run, CHAOS_DIR=DIR keeps the replicas' and Redis's logs, CHAOS_KILLS=off is the control.
chaos: deps
	$(GO) test -tags chaos -count=1 -v -timeout 20m ./test/chaos/

# --- End-to-end test on a real kube-apiserver and Argo CD (see README.md, "End-to-end test") ---
# The binaries are built once into a cache keyed by the tools modules, and reused.
E2E_HASH := $(shell cat test/e2e/tools/*/go.mod test/e2e/tools/*/go.sum 2>/dev/null | sha256sum | cut -c1-12)
E2E_CACHE ?= $(HOME)/.cache/daytwo-e2e/$(E2E_HASH)
E2E_BIN := $(E2E_CACHE)/bin
K8S_VERSION := v1.31.0
K8S_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(K8S_VERSION) -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=31 \
	-X k8s.io/client-go/pkg/version.gitVersion=$(K8S_VERSION) -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=31
E2E_TOOLS := $(E2E_BIN)/kube-apiserver $(E2E_BIN)/kube-controller-manager $(E2E_BIN)/kube-scheduler \
	$(E2E_BIN)/argocd $(E2E_BIN)/kwok $(E2E_BIN)/kustomize

.PHONY: e2e e2e-tools e2e-deps

# etcd, Redis and git from Debian's packages.
e2e-deps:
	@missing=""; for c in etcd:etcd-server redis-server:redis-server git:git; do \
	  command -v $${c%%:*} >/dev/null || missing="$$missing $${c#*:}"; done; \
	if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing; fi

e2e-tools: e2e-deps $(E2E_TOOLS)
	@echo "e2e tools in $(E2E_BIN)"; ls -l $(E2E_BIN)

$(E2E_BIN)/kube-%:
	@mkdir -p $(E2E_BIN); echo "building kube-$* (a few minutes the first time)"
	cd test/e2e/tools/kube && time $(GO) build -trimpath -ldflags '$(K8S_LDFLAGS)' -o $@ k8s.io/kubernetes/cmd/kube-$*

$(E2E_BIN)/argocd:
	@mkdir -p $(E2E_BIN); echo "building argocd (about 5 minutes the first time)"
	cd test/e2e/tools/argocd && time $(GO) build -trimpath -ldflags '-s -w' -o $@ github.com/argoproj/argo-cd/v2/cmd

$(E2E_BIN)/kwok:
	GOBIN=$(E2E_BIN) $(GO) install sigs.k8s.io/kwok/cmd/kwok@v0.6.1

$(E2E_BIN)/kustomize:
	GOBIN=$(E2E_BIN) $(GO) install sigs.k8s.io/kustomize/kustomize/v5@v5.4.3

# The scenarios: the stack is started, used and stopped by the test itself. The image
# make image built is the one manifests/ deploys there.
e2e: e2e-tools image
	DAYTWO_E2E_BIN=$(E2E_BIN) DAYTWO_E2E_IMAGE_LAYOUT=$(CURDIR)/$(IMAGE_DIR)/oci $(GO) test -tags e2e -count=1 -v -timeout 30m ./test/e2e/
