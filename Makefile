# Verity: two commands set everything up on a fresh Debian machine.
#   make run    install what is missing, start a local ClickHouse, migrate,
#               seed a demo, serve the collector, dashboard and a demo page
#   make test   the whole test suite (lint, vulnerability scan, unit,
#               integration against real ClickHouse 18.16 and chDB 26.x)

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
# Go 1.21+ fetches the toolchain pinned in go.mod through the module proxy;
# the machine's GOTOOLCHAIN=local would keep an older, vulnerable one.
export GOTOOLCHAIN := auto
export PATH := $(PATH):/usr/local/go/bin:/usr/sbin
GO ?= go

.PHONY: run test build lint vulncheck unit eval deps-run deps-test clean help

help:
	@sed -n '1,6p' Makefile

run: deps-run
	$(GO) run ./cmd/verity dev

build:
	$(GO) build -o bin/verity ./cmd/verity

test: deps-test lint vulncheck unit eval

lint:
	.ci/lint.sh
	.ci/check-generated.sh

vulncheck:
	.ci/vulncheck.sh

# chDB (ClickHouse 26.x in-process) is fetched once into .cache/chdb.
# Browser tests leave screenshots and the rows they saw in testdata/artifacts.
unit:
	lib=$$(.ci/fetch-chdb.sh); mkdir -p testdata/artifacts; \
	CHDB_LIB_PATH="$$lib" VERITY_TEST_ARTIFACTS="$$PWD/testdata/artifacts" \
	$(GO) test -tags chdb -race -timeout 20m -count=1 ./...

# The abuse evaluation on all of testdata/abuse, failing on a missed target
# (docs/abuse.md, "Evaluation"). Under -race, `unit` replays one sample in 40
# of it and checks the harness only: the race detector slows the collector's
# User-Agent parsing 25-fold.
eval:
	$(GO) test -count=1 -run '^TestTargetsOnCommittedData$$' ./collector/evaluate/

deps-run:
	.ci/deps.sh run

deps-test:
	.ci/deps.sh test

clean:
	rm -rf bin .cache
