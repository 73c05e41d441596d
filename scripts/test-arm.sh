#!/usr/bin/env bash
# Runs the core packages' tests on ARM under Debian's qemu-user: GOARM=7 with
# qemu-arm and arm64 with qemu-aarch64, then checks that the GOARM=6 agent
# starts on an ARM1176 (Raspberry Pi 1/Zero) CPU far enough to print its version.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

# End-to-end tests that build or exec host binaries skip themselves here.
export TIMECLOCK_QEMU=1
pkgs=$($GO list ./... | grep -v -e /cmd/timeclock-cloud -e /scripts/ -e '/scripts$')

echo "== linux/arm GOARM=7 under qemu-arm"
CGO_ENABLED=0 GOARCH=arm GOARM=7 $GO test -count=1 -timeout 5m -exec "qemu-arm" $pkgs
echo "== linux/arm64 under qemu-aarch64"
CGO_ENABLED=0 GOARCH=arm64 $GO test -count=1 -timeout 5m -exec "qemu-aarch64" $pkgs

echo "== GOARM=6 agent on an ARM1176"
bin=$(mktemp -d)/timeclockd
trap 'rm -rf "$(dirname "$bin")"' EXIT
. scripts/agent-build.sh
agent_build "$bin" arm 6
out=$(qemu-arm -cpu arm1176 "$bin" --version)
echo "$out"
case "$out" in
"timeclockd "*"linux/arm"*) ;;
*) echo "GOARM=6 agent printed no version" >&2; exit 1 ;;
esac
