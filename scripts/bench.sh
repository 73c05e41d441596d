#!/usr/bin/env bash
# make bench: runs the benchmarks and prints the BENCHMARKS.md table. It
# exits non-zero, naming them, when a target row was missed or did not run
# (scripts/benchtable), or when a benchmark failed.
#
# The clock's benchmarks run the shipped timeclockd (scripts/cross.sh's
# builds): the host's amd64 build, then the GOARM=7 build under qemu-arm
# for the device rows, then the booted-VM tier's slow-disk measurement.
# The raw `go test -bench` output is kept in dist/bench.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
mkdir -p dist
raw=$PWD/dist/bench.txt
: >"$raw"
status=0
fail() { echo "bench: $*" >&2; status=1; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== cross-building the shipped agent (scripts/cross.sh)" >&2
scripts/cross.sh >&2
for v in armv6 armv7 arm64; do
	echo "BenchmarkBinarySize/$v 1 $(stat -c %s dist/timeclockd-linux-$v) bytes" >>"$raw"
done
load_start=$(load)

# p99 rows need 200 samples: these benchmarks take one per iteration.
one=(BenchmarkStartToIdle BenchmarkStartToIdleOnboarded BenchmarkActivation BenchmarkCloudPunchAcked)
one_re="^($(
	IFS='|'
	echo "${one[*]}"
))\$"
export TIMECLOCK_TIMECLOCKD=$PWD/dist/timeclockd-linux-amd64

echo "== go benchmarks (load $(load))" >&2
if ! $GO test -run '^$' -bench . -skip "$one_re" -benchtime "${BENCHTIME:-20x}" -timeout 40m ./... 2>&1 | tee -a "$raw" >&2; then
	fail "a benchmark failed (its rows show as not run)"
fi
echo "== one-sample-per-iteration benchmarks, 200 each (load $(load))" >&2
if ! $GO test -run '^$' -bench "$one_re" -benchtime 200x -timeout 30m ./... 2>&1 | tee -a "$raw" >&2; then
	fail "a benchmark failed (its rows show as not run)"
fi

# The device rows again with the GOARM=7 build under qemu-arm (user-mode
# emulation: a relative cost). Their names get an @qemu-arm suffix.
qemu_names() { awk '/^Benchmark/ { sub(/-[0-9]+$/, "", $1); $1 = $1 "@qemu-arm" } { print }'; }
echo "== the GOARM=7 agent under qemu-arm (load $(load))" >&2
if command -v qemu-arm >/dev/null; then
	if ! { TIMECLOCK_TIMECLOCKD=$PWD/dist/timeclockd-linux-armv7 TIMECLOCK_DAEMON_EXEC=qemu-arm \
		$GO test -run '^$' -bench '^BenchmarkStartToIdle$' -benchtime 200x -timeout 20m ./cmd/timeclockd &&
		TIMECLOCK_TIMECLOCKD=$PWD/dist/timeclockd-linux-armv7 TIMECLOCK_DAEMON_EXEC=qemu-arm \
			$GO test -run '^$' -bench '^(BenchmarkBadgeToFeedback|BenchmarkSerialPunches)$' -benchtime 20x -timeout 20m ./cmd/timeclockd &&
		CGO_ENABLED=0 GOARCH=arm GOARM=7 $GO test -exec qemu-arm -run '^$' -bench '^BenchmarkAppendBurst$' -benchtime 20x ./agent/journal; } 2>&1 |
		qemu_names | tee -a "$raw" >&2; then
		fail "a qemu-arm benchmark failed"
	fi
else
	fail "qemu-arm missing (scripts/deps.sh test): the qemu-arm rows did not run"
fi

# The slow-disk model: the booted-VM tier (make test-vm's image and .deb)
# with the state disk's fsync delayed to about 5 ms.
echo "== slow disk, booted VM (load $(load))" >&2
if grep -qs 'func BenchmarkSlowDiskPunch' packaging/booted/*_test.go; then
	if GO=$GO ARCHES=amd64 scripts/package.sh >&2 && deb=$(ls -t dist/timeclockd_*_amd64.deb | head -1) &&
		img=$(scripts/vm-image.sh | tail -1); then
		if ! TIMECLOCK_VM_IMAGE=$img TIMECLOCK_VM_DEB=$PWD/$deb TIMECLOCK_REQUIRE_TOOLS=1 \
			$GO test -run '^$' -bench '^BenchmarkSlowDiskPunch$' -benchtime 1x -timeout 40m ./packaging/booted/ 2>&1 | tee -a "$raw" >&2; then
			fail "the slow-disk benchmark failed"
		fi
	else
		fail "could not build the .deb or the VM image for the slow-disk benchmark"
	fi
else
	fail "BenchmarkSlowDiskPunch (packaging/booted) does not exist yet: its rows did not run"
fi

echo
echo "Command: \`make bench\` ($(git describe --always --dirty 2>/dev/null || echo dev), $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u '+%Y-%m-%d %H:%M UTC'); load average $load_start at the start, $(load) at the end)"
echo
$GO run ./scripts/benchtable <"$raw" || status=1
exit $status
