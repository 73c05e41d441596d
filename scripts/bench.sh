#!/usr/bin/env bash
# make bench: runs the benchmarks and prints the BENCHMARKS.md table. It
# exits non-zero, naming them, when a target row was missed or did not run
# (scripts/benchtable), or when a benchmark failed.
# The raw `go test -bench` output is kept in dist/bench.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
mkdir -p dist
raw=dist/bench.txt
: >"$raw"
status=0

echo "== cross-building for binary sizes (the shipped build: scripts/cross.sh)" >&2
scripts/cross.sh >&2
for v in armv6 armv7 arm64; do
	echo "BenchmarkBinarySize/$v 1 $(stat -c %s dist/timeclockd-linux-$v) bytes" >>"$raw"
done

echo "== go benchmarks" >&2
if ! $GO test -run '^$' -bench . -benchtime "${BENCHTIME:-20x}" -timeout 30m ./... 2>&1 | tee -a "$raw" >&2; then
	echo "bench: a benchmark failed (its rows show as not run)" >&2
	status=1
fi

echo
echo "Command: \`make bench\` ($(git describe --always --dirty 2>/dev/null || echo dev), $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d))"
echo
$GO run ./scripts/benchtable <"$raw" || status=1
exit $status
