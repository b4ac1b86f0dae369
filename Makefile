# navarch: `make up` starts a cluster on a fresh machine, `make test` runs every test.
SHELL := /bin/bash
GO ?= go
BIN := bin/navarch
DATA_DIR ?= $(CURDIR)/.data
PORT ?= 6443
LDFLAGS := -X github.com/navarch/navarch/internal/version.GitCommit=$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown) \
           -X github.com/navarch/navarch/internal/version.BuildDate=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: help deps build up down test test-unit test-e2e bench lint fuzz clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

deps: ## Install missing apt packages (idempotent)
	@hack/install-deps.sh

build: ## Build bin/navarch
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/navarch

up: deps build ## Install, build and start a one-node cluster in the background
	@hack/up.sh "$(BIN)" "$(DATA_DIR)" "$(PORT)"

down: ## Stop the cluster started by `make up`
	@hack/down.sh "$(DATA_DIR)"

test: deps build ## Install what is missing and run every test (unit, integration, e2e)
	$(GO) test -count=1 -timeout 20m ./...

test-unit: ## Run only tests that need no root or external processes
	$(GO) test -short -count=1 ./...

bench: build ## Run the API benchmark against a fresh embedded-etcd server
	$(BIN) bench api

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l cmd internal test)" || (gofmt -l cmd internal test; exit 1)
	$(GO) vet ./...

fuzz: ## Fuzz the request-decoding path for 60s
	$(GO) test ./internal/apiserver -run '^$$' -fuzz FuzzDecodeRequest -fuzztime 60s

clean: ## Remove build output
	rm -rf bin
