#!/usr/bin/env bash
# make bench: runs the benchmarks and prints the BENCHMARKS.md table.
# The raw `go test -bench` output is kept in dist/bench.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
mkdir -p dist
raw=dist/bench.txt
: >"$raw"

echo "== cross-building for binary sizes" >&2
scripts/cross.sh >&2
for v in armv6 armv7 arm64; do
	echo "BenchmarkBinarySize/$v 1 $(stat -c %s dist/timeclockd-linux-$v) bytes" >>"$raw"
done

echo "== go benchmarks" >&2
$GO test -run '^$' -bench . -benchtime "${BENCHTIME:-20x}" -timeout 30m ./... | tee -a "$raw" >&2

echo
echo "Command: \`make bench\` ($(git describe --always --dirty 2>/dev/null || echo dev), $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d))"
echo
$GO run ./scripts/benchtable <"$raw"
