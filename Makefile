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

demo: build deps
	./scripts/demo.sh $(BIN)

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
