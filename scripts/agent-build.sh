# Sourced by every script that builds timeclockd (cross.sh, package.sh,
# test-arm.sh, bench.sh; the Makefile reads AGENT_TAGS and AGENT_GCFLAGS): one set of
# flags, so the binary the benchmarks measure is the one the packages ship.
#
# nethttpomithttp2: the clock speaks HTTP/1.1 only (the onboarding API and
#   updates through internal/httpc, the MQTT WebSocket fallback through
#   gorilla/websocket); net/http's HTTP/2 code was ~384 KiB of a GOARM=7
#   binary that must stay under 8 MiB while the clock used its Transport,
#   and is still 16 KiB now that only the request writer and response
#   reader are linked.
# No embedded time zone database (time/tzdata, ~450 KiB): the .deb depends
#   on Debian's tzdata, which keeps /usr/share/zoneinfo current. For a system
#   without it, TZDATA=embed links Go's copy in (the timetzdata tag); or set
#   ZONEINFO to a zoneinfo directory or zip (docs/operations.md).
# No inlining (-l) outside the hot paths: ~700 KiB less code. The
#   runtime, JSON (the drain's encoding), bbolt (every punch), the AES-GCM of
#   TLS and the agent's packages on the punch, drain and idle paths (the
#   agent, its journal, store, roster, punch flow and cloud sync, wire,
#   clock, the hardware drivers and the sim board) keep the compiler's
#   inlining; the console, onboarding, updates, board set-up, enrollment and
#   main do not (~24 KiB). make bench measures this build, so what it costs
#   shows there.
# linux/arm (GOARM=6 and 7) links with 4 KiB segment alignment (-R 0x1000,
#   the page size of every 32-bit ARM Linux kernel) instead of the linker's
#   64 KiB default for arm: the padding between the text, read-only and data
#   segments was ~76 KiB of the file. arm64 keeps its default (arm64 kernels
#   with 16 or 64 KiB pages exist).
# go.bug.st/serial is third_party/go.bug.st/serial (go.mod's replace): its
#   package-level regexp linked regexp and the Unicode tables (~184 KiB) and
#   compiled at every start (third_party/go.bug.st/serial/PATCHES.md).
AGENT_TAGS=nethttpomithttp2
AGENT_GCFLAGS=(-gcflags=all=-l -gcflags=runtime= -gcflags=encoding/json= -gcflags=go.etcd.io/bbolt/...=
	-gcflags=crypto/internal/fips140/aes/...= -gcflags=timeclock/agent= -gcflags=timeclock/agent/journal=
	-gcflags=timeclock/agent/store= -gcflags=timeclock/agent/roster= -gcflags=timeclock/agent/punchflow=
	-gcflags=timeclock/agent/cloudsync= -gcflags=timeclock/wire= -gcflags=timeclock/clock= -gcflags=timeclock/hal/...=)
if [ "${TZDATA:-}" = embed ]; then
	AGENT_TAGS=$AGENT_TAGS,timetzdata
fi
# agent_build OUT GOARCH GOARM [VERSION [BUILT]]: the stripped, static agent.
# BUILT (RFC 3339, default the commit time) is the agent's time floor
# (clock.BuildTime): a clock is never earlier than the binary it runs, even
# where GOFLAGS=-buildvcs=false leaves no VCS stamp.
agent_build() {
	local built=${5:-$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || true)}
	local align=
	if [ "$2" = arm ]; then
		align="-R 0x1000"
	fi
	CGO_ENABLED=0 GOOS=linux GOARCH=$2 GOARM=$3 ${GO:-go} build -trimpath -tags "$AGENT_TAGS" "${AGENT_GCFLAGS[@]}" \
		-ldflags "-s -w $align -X main.version=${4:-dev} -X timeclock/clock.buildTime=$built" -o "$1" ./cmd/timeclockd
}
