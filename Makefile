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

.PHONY: all build test lint demo bench fuzz deps clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/app

# System packages the tests use (git for the local GitOps adapter).
deps:
	@command -v git >/dev/null || { apt-get update -qq && apt-get install -y -qq git; }

test: deps
	$(GO) test -count=1 $(PKGS)

lint: $(GOBIN)/staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$out" ] || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	$(GO) vet $(PKGS)
	$(GOBIN)/staticcheck $(PKGS)

$(GOBIN)/staticcheck:
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# The main job on the bundled example, in a throwaway clone: validate, then plan and apply a
# promotion, a scale and a restart. Each apply leaves a branch; HEAD stays untouched.
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
	echo; echo "== daytwo apply \"/restart --service payments --env prod\""; \
	"$$bin" apply --repo . --as carol "/restart --service payments --env prod" | tail -n 2; \
	echo; echo "== branches written (HEAD unchanged: $$(git rev-parse --short HEAD))"; \
	git --no-pager log --branches='daytwo/*' --format='%h %s%n%(trailers:key=Daytwo-Requester,key=Daytwo-Command)' ; \
	git status --short | grep . && { echo "working tree changed"; exit 1; } || true

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
