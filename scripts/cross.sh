#!/usr/bin/env bash
# Cross-builds the stripped agent for the clocks into dist/:
# linux/arm GOARM=6 (ARM11: Pi Zero/1 class), GOARM=7 (Cortex-A7/A9), arm64,
# and amd64 (the simulated clock's package; make bench measures it).
# The flags are scripts/agent-build.sh's, the packages' own.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --always --dirty 2>/dev/null || echo dev)}
. scripts/agent-build.sh
mkdir -p dist
build() { # build NAME GOARCH GOARM
	agent_build "dist/$1" "$2" "$3" "$VERSION"
	printf '%-28s %9d bytes\n' "dist/$1" "$(stat -c %s "dist/$1")"
}
build timeclockd-linux-armv6 arm 6
build timeclockd-linux-armv7 arm 7
build timeclockd-linux-arm64 arm64 ""
build timeclockd-linux-amd64 amd64 ""
