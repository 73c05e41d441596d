# timeclock: make run (cloud + simulated clock), make test (everything CI runs).
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
BUILT ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X timeclock/clock.buildTime=$(BUILT)

.PHONY: all build cross package test test-unit test-arm test-vm run bench soak lint deps-test deps-vm clean screenshots

all: build

# The agent's build tags are scripts/agent-build.sh's (the shipped ones).
AGENT_TAGS := $(shell . scripts/agent-build.sh && echo $$AGENT_TAGS)
AGENT_GCFLAGS := $(shell . scripts/agent-build.sh && echo $${AGENT_GCFLAGS[@]})

build:
	$(GO) build -tags "$(AGENT_TAGS)" $(AGENT_GCFLAGS) -ldflags "$(LDFLAGS)" -o bin/ ./cmd/timeclockd
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/timeclock-cloud

cross:
	VERSION=$(VERSION) scripts/cross.sh

# package: the .deb files in dist/ (nfpm, a pinned Go tool): timeclockd for
# armhf (GOARM=6), arm64 and amd64, timeclock-cloud for amd64 and arm64.
# DEB_VERSION=1.2.3 sets their version (default 0.0~gitCOMMITTIME.HASH).
package:
	@scripts/deps.sh package
	GO=$(GO) DEB_VERSION=$(DEB_VERSION) scripts/package.sh

deps-test:
	@scripts/deps.sh test

deps-vm:
	@scripts/deps.sh vm

# test = vet + gofmt check + go test -race ./... + test-arm + test-vm
test: deps-test lint test-unit test-arm test-vm

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

test-unit:
	TIMECLOCK_REQUIRE_TOOLS=1 scripts/logged.sh unit $(GO) test -race -count=1 -timeout 8m ./...

test-arm: deps-test
	GO=$(GO) scripts/logged.sh arm scripts/test-arm.sh

# test-vm: the booted-Linux tier (docs/testing.md). scripts/vm-image.sh builds
# the Debian 12 image once (cached in /var/cache/timeclock-vm); the scenarios
# in packaging/booted boot it under qemu and install the clock in it.
# VM_CUTS: power cuts while punching in the whole tier (TestUpdate makes 4 of
# them at its install steps, TestAppliance the rest).
VM_CUTS ?= 5
VM_LW_PUNCHES ?= 8
VM_TIMEOUT ?= 40m
test-vm: deps-vm
	@scripts/deps.sh package
	GO=$(GO) ARCHES=amd64 DEB_VERSION=$(DEB_VERSION) scripts/package.sh
	@# The previous build for the upgrade scenario: the same source a version below.
	@deb=$$(ls -t dist/timeclockd_*_amd64.deb | head -1) && v=$$(dpkg-deb -f $$deb Version) && \
	rm -rf dist/vm-prev && GO=$(GO) ARCHES=amd64 DIST=dist/vm-prev DEB_VERSION=$$v~prev scripts/package.sh >/dev/null && \
	prev=$$(ls dist/vm-prev/timeclockd_*_amd64.deb) && img=$$(scripts/vm-image.sh | tail -1) && \
	echo "test-vm: $$prev then $$deb on $$img" && \
	TIMECLOCK_VM_IMAGE=$$img TIMECLOCK_VM_DEB=$(CURDIR)/$$deb TIMECLOCK_VM_DEB_PREV=$(CURDIR)/$$prev TIMECLOCK_VM_CUTS=$(VM_CUTS) TIMECLOCK_VM_LW_PUNCHES=$(VM_LW_PUNCHES) \
	TIMECLOCK_REQUIRE_TOOLS=1 scripts/logged.sh vm $(GO) test -count=1 -timeout $(VM_TIMEOUT) -v -run '^(TestAppliance|TestUpdate)$$' ./packaging/booted/

run: build
	scripts/run.sh

bench: deps-test
	GO=$(GO) scripts/bench.sh

# soak: the crash-safety test with 1,000 SIGKILLs of a real timeclockd
# (make test runs it with 30), then the booted tier with 100 power cuts
# (make test: 5) and 40 punches under dm-log-writes (make test: 8);
# KILLS=N and CUTS=N change the counts.
soak:
	TIMECLOCK_CRASH_KILLS=$${KILLS:-1000} $(GO) test -race -count=1 -timeout 60m -run '^TestCrashSafety$$' -v ./cmd/timeclockd/
	$(MAKE) test-vm VM_CUTS=$${CUTS:-100} VM_LW_PUNCHES=40 VM_TIMEOUT=150m

# screenshots: the admin pages' PNGs in docs/img, from the browser tests.
screenshots: deps-test
	TIMECLOCK_SCREENSHOTS=$(CURDIR)/docs/img $(GO) test -count=1 -run '^TestBrowser' ./cloud/web/

clean:
	rm -rf bin dist run
