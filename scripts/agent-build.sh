# Sourced by every script that builds timeclockd (cross.sh, package.sh,
# test-arm.sh, bench.sh; the Makefile reads AGENT_TAGS and AGENT_GCFLAGS): one set of
# flags, so the binary the benchmarks measure is the one the packages ship.
#
# nethttpomithttp2: the clock speaks HTTP/1.1 only (the onboarding API, the
#   MQTT WebSocket fallback); the HTTP/2 client is ~384 KiB of a GOARM=7
#   binary that must stay under 8 MiB.
# No embedded time zone database (time/tzdata, ~450 KiB): the .deb depends
#   on Debian's tzdata, which keeps /usr/share/zoneinfo current. For a system
#   without it, TZDATA=embed links Go's copy in (the timetzdata tag); or set
#   ZONEINFO to a zoneinfo directory or zip (docs/operations.md).
# No inlining (-l) outside the hot paths: ~700 KiB less code. The
#   runtime, JSON (the drain's encoding), bbolt (every punch), the AES-GCM of
#   TLS and the agent's own code keep the compiler's inlining; make bench
#   measures this build, so what it costs shows there.
AGENT_TAGS=nethttpomithttp2
AGENT_GCFLAGS=(-gcflags=all=-l -gcflags=runtime= -gcflags=encoding/json= -gcflags=go.etcd.io/bbolt/...=
	-gcflags=crypto/internal/fips140/aes/...= -gcflags=timeclock/...=)
if [ "${TZDATA:-}" = embed ]; then
	AGENT_TAGS=$AGENT_TAGS,timetzdata
fi
# agent_build OUT GOARCH GOARM [VERSION [BUILT]]: the stripped, static agent.
# BUILT (RFC 3339, default the commit time) is the agent's time floor
# (clock.BuildTime): a clock is never earlier than the binary it runs, even
# where GOFLAGS=-buildvcs=false leaves no VCS stamp.
agent_build() {
	local built=${5:-$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || true)}
	CGO_ENABLED=0 GOOS=linux GOARCH=$2 GOARM=$3 ${GO:-go} build -trimpath -tags "$AGENT_TAGS" "${AGENT_GCFLAGS[@]}" \
		-ldflags "-s -w -X main.version=${4:-dev} -X timeclock/clock.buildTime=$built" -o "$1" ./cmd/timeclockd
}
