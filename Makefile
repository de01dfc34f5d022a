# Grim Reaper: build, run and test. `make help` lists the targets.

SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --tags 2>/dev/null || echo 0.1.0-dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w \
	-X github.com/grim-reaper/grim/internal/buildinfo.Version=$(VERSION) \
	-X github.com/grim-reaper/grim/internal/buildinfo.Commit=$(COMMIT)
# FUZZTIME counts executions, not seconds: a time limit makes the fuzzer report "context
# deadline exceeded" when a loaded machine answers late, and counts repeat the same work.
FUZZTIME ?= 60000x

.PHONY: help build run test test-unit test-postgres test-packages packages fuzz vet clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

build: ## build bin/grim-controller, bin/grim-agent and bin/grim (static)
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/grim-controller ./controller/cmd/grim-controller
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/grim-agent ./agent/cmd/grim-agent
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/grim ./cli/cmd/grim

run: build ## start a controller and one local agent enrolled in it (Ctrl-C stops both)
	@scripts/run.sh

vet: ## go vet and gofmt
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

test: vet build test-unit test-postgres test-packages fuzz ## every test: SQLite, PostgreSQL, packages, fuzzing

test-unit: ## the whole suite on the embedded SQLite store
	GRIM_BIN_DIR=$(CURDIR)/bin $(GO) test -race -count=1 -timeout 20m ./...

test-postgres: ## the suites that touch the state store again, on a fresh PostgreSQL database each
	GRIM_BIN_DIR=$(CURDIR)/bin GRIM_TEST_DB=postgres $(GO) test -race -count=1 -timeout 20m \
		./controller/... ./e2e/...

packages: ## .deb and .rpm of agent and controller, amd64 and arm64, into dist/
	VERSION=$(VERSION) COMMIT=$(COMMIT) GO=$(GO) scripts/packages.sh

# Installs, upgrades and purges the agent's .deb on this machine (as root), and installs
# both packages in a throwaway container booted under systemd; each test skips with its
# reason where it cannot run, or fails if GRIM_REQUIRE_SERVICES=1 (CI).
test-packages: ## the package tests: dpkg install, enrol, back up, upgrade, purge; systemd-nspawn
	GRIM_PACKAGE_TESTS=1 $(GO) test -count=1 -v -timeout 15m ./deployments/

# Every decoder of outside input has a fuzz target, and so has the tree encoder, which
# must give encoding/json's bytes: package and target name.
FUZZ_TARGETS := ./protocol:FuzzDecode ./protocol/jointoken:FuzzParse \
	./protocol/blob:FuzzOpen ./protocol/tree:FuzzUnmarshal ./protocol/tree:FuzzMarshal \
	./agent/internal/cache:FuzzDecode \
	./controller/internal/auth:FuzzParse ./controller/internal/auth:FuzzParseToken \
	./controller/internal/repo:FuzzDecodeTrailer ./pkg/scythe:FuzzParse \
	./controller/internal/webhook:FuzzVerify

fuzz: ## run each fuzz target for FUZZTIME
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t%%:*} $${t##*:}"; \
		$(GO) test -run='^$$' -fuzz="^$${t##*:}$$" -fuzztime=$(FUZZTIME) "$${t%%:*}"; \
	done

bench: ## compare with restic on a generated data set (BENCH_SIZE=1GiB, BENCH_QUICK=1)
	@scripts/bench.sh

clean: ## remove build output
	rm -rf bin
