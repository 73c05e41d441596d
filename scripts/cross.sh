#!/usr/bin/env bash
# Cross-builds the stripped agent for the clocks into dist/:
# linux/arm GOARM=6 (ARM11: Pi Zero/1 class), GOARM=7 (Cortex-A7/A9), arm64.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
mkdir -p dist
build() { # build NAME GOARCH GOARM
	CGO_ENABLED=0 GOOS=linux GOARCH=$2 GOARM=$3 $GO build -trimpath \
		-ldflags "-s -w -X main.version=$VERSION" -o "dist/$1" ./cmd/timeclockd
	printf '%-28s %9d bytes\n' "dist/$1" "$(stat -c %s "dist/$1")"
}
build timeclockd-linux-armv6 arm 6
build timeclockd-linux-armv7 arm 7
build timeclockd-linux-arm64 arm64 ""
