#!/usr/bin/env bash
# Builds the Debian packages with nfpm, a pinned Go tool (scripts/nfpm/go.mod:
# its go.sum pins every module it builds from, and the product's go.mod stays
# free of it). Into $DIST (default dist/):
#   timeclockd_VERSION_{armhf,arm64,amd64}.deb   (armhf: GOARM=6, Pi Zero/1 and ARMv7)
#   timeclock-cloud_VERSION_{amd64,arm64}.deb
# VERSION is $DEB_VERSION, else 0.0~gitCOMMITTIME.HASH (sorted by commit time,
# so each commit's packages upgrade the last). The binaries report it with
# --version. ARCHES="amd64" builds one architecture only (make test does).
set -euo pipefail
trap 'echo "package.sh: failed at line $LINENO" >&2' ERR
cd "$(dirname "$0")/.."
GO=${GO:-go}
DIST=${DIST:-dist}
ARCHES=${ARCHES:-armhf arm64 amd64}
mkdir -p "$DIST"
DIST=$(cd "$DIST" && pwd)
root=$(pwd)

version=${DEB_VERSION:-}
if [ -z "$version" ]; then
	ts=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)
	version="0.0~git$ts.$(git rev-parse --short=7 HEAD)"
	if ! git diff --quiet HEAD -- 2>/dev/null; then
		version="$version.dirty"
	fi
fi
# The agent's time floor starts at the commit's time (clock.BuildTime): set
# it explicitly, as Go's own VCS stamp is absent wherever -buildvcs=false
# (GOFLAGS) or the tree is no git checkout.
built=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || true)
if ! [[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
	echo "package.sh: version $version: a Debian native version starts with a digit and has only A-Za-z0-9.+~" >&2
	exit 2
fi

# The nfpm tool, built once from its pinned module.
nfpm="$DIST/.work/nfpm"
mkdir -p "$DIST/.work"
$GO -C scripts/nfpm build -o "$nfpm" github.com/goreleaser/nfpm/v2/cmd/nfpm

. scripts/agent-build.sh

goarch() { # Debian arch -> GOARCH GOARM
	case $1 in
	armhf) echo "arm 6" ;;
	arm64) echo "arm64 " ;;
	amd64) echo "amd64 " ;;
	*) echo "package.sh: unknown arch $1" >&2; exit 2 ;;
	esac
}

# The docs and changelog every package carries.
work="$DIST/.work/$version"
mkdir -p "$work"
printf '%s (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- timeclock maintainers <maintainers@timeclock.example.com>  %s\n' \
	"PKG" "$version" "$(git rev-parse HEAD)" "$(TZ=UTC git log -1 --format=%cd --date=rfc2822)" >"$work/changelog.in"

package() { # package NAME ARCH
	local name=$1 arch=$2 ga gm bin conf desc
	read -r ga gm <<<"$(goarch "$arch")"
	bin="$work/$arch/$name"
	mkdir -p "$work/$arch"
	if [ "$name" = timeclockd ]; then
		agent_build "$bin" "$ga" "$gm" "$version" "$built" # scripts/agent-build.sh: the flags make bench measures
	else
		CGO_ENABLED=0 GOOS=linux GOARCH=$ga GOARM=$gm $GO build -trimpath \
			-ldflags "-s -w -X main.version=$version -X timeclock/clock.buildTime=$built" -o "$bin" "./cmd/$name"
	fi
	sed "s/^PKG /$name /" "$work/changelog.in" | gzip -9n >"$work/$name.changelog.gz"
	gzip -9nc "packaging/man/$name.8" >"$work/$name.8.gz"
	local yaml="$work/$name-$arch.yaml"
	if [ "$name" = timeclockd ]; then
		conf=packaging/etc/timeclockd.json
		[ "$arch" = amd64 ] && conf=packaging/etc/timeclockd-sim.json
		cat >"$yaml" <<YAML
name: timeclockd
arch: $arch
platform: linux
version: $version
version_schema: none
section: misc
priority: optional
maintainer: timeclock maintainers <maintainers@timeclock.example.com>
description: |-
  firmware agent for employee time clocks
  timeclockd runs an employee time clock: keypad, display, badge readers,
  the punch journal (every accepted punch fsynced before the screen says
  so), onboarding to the cloud and the MQTT sync. It runs as the systemd
  service timeclockd with a watchdog. The armhf and arm64 packages start
  the Raspberry Pi dev kit board; the amd64 one the simulated board.
homepage: https://localhost/timeclock
license: proprietary
depends: [systemd, tzdata]
contents:
  - {src: $bin, dst: /usr/bin/timeclockd, file_info: {mode: 0755}}
  - {src: $work/$name.8.gz, dst: /usr/share/man/man8/timeclockd.8.gz, file_info: {mode: 0644}}
  - {src: packaging/systemd/timeclockd.service, dst: /lib/systemd/system/timeclockd.service, file_info: {mode: 0644}}
  - {src: packaging/sysusers/timeclockd.conf, dst: /usr/lib/sysusers.d/timeclockd.conf, file_info: {mode: 0644}}
  - {src: packaging/lib/reboot-on-exit, dst: /usr/lib/timeclock/reboot-on-exit, file_info: {mode: 0755}}
  - {src: packaging/systemd/timeclockd-rescue.service, dst: /lib/systemd/system/timeclockd-rescue.service, file_info: {mode: 0644}}
  - {src: packaging/lib/rescue-update, dst: /usr/lib/timeclock/rescue-update, file_info: {mode: 0755}}
  - {src: packaging/systemd/timeclockd-fault.service, dst: /lib/systemd/system/timeclockd-fault.service, file_info: {mode: 0644}}
  - {src: packaging/lib/retry-agent, dst: /usr/lib/timeclock/retry-agent, file_info: {mode: 0755}}
  - {src: docs/updates.md, dst: /usr/share/doc/timeclockd/updates.md, file_info: {mode: 0644}}
  - {src: $conf, dst: /etc/timeclock/timeclockd.json, type: config, file_info: {mode: 0644}}
  - {src: docs/operations.md, dst: /usr/share/doc/timeclockd/operations.md, file_info: {mode: 0644}}
  - {src: README.md, dst: /usr/share/doc/timeclockd/README.md, file_info: {mode: 0644}}
  - {src: packaging/copyright, dst: /usr/share/doc/timeclockd/copyright, file_info: {mode: 0644}}
  - {src: packaging/lintian/timeclockd, dst: /usr/share/lintian/overrides/timeclockd, file_info: {mode: 0644}}
  - {src: $work/$name.changelog.gz, dst: /usr/share/doc/timeclockd/changelog.gz, file_info: {mode: 0644}}
scripts:
  postinstall: packaging/deb/timeclockd/postinst
  preremove: packaging/deb/timeclockd/prerm
  postremove: packaging/deb/timeclockd/postrm
YAML
	else
		cat >"$yaml" <<YAML
name: timeclock-cloud
arch: $arch
platform: linux
version: $version
version_schema: none
section: misc
priority: optional
maintainer: timeclock maintainers <maintainers@timeclock.example.com>
description: |-
  reference cloud for timeclock employee time clocks
  timeclock-cloud onboards clocks (company lookup, emailed code, device
  certificates), takes their punches over MQTT with its embedded broker,
  and serves the administrators' pages. It runs as the systemd service
  timeclock-cloud once /etc/default/timeclock-cloud is set up.
homepage: https://localhost/timeclock
license: proprietary
depends: [systemd]
contents:
  - {src: $bin, dst: /usr/bin/timeclock-cloud, file_info: {mode: 0755}}
  - {src: $work/$name.8.gz, dst: /usr/share/man/man8/timeclock-cloud.8.gz, file_info: {mode: 0644}}
  - {src: packaging/systemd/timeclock-cloud.service, dst: /lib/systemd/system/timeclock-cloud.service, file_info: {mode: 0644}}
  - {src: packaging/sysusers/timeclock-cloud.conf, dst: /usr/lib/sysusers.d/timeclock-cloud.conf, file_info: {mode: 0644}}
  - {src: packaging/etc/timeclock-cloud.default, dst: /etc/default/timeclock-cloud, type: config, file_info: {mode: 0644}}
  - {src: docs/operations.md, dst: /usr/share/doc/timeclock-cloud/operations.md, file_info: {mode: 0644}}
  - {src: docs/cloud.md, dst: /usr/share/doc/timeclock-cloud/cloud.md, file_info: {mode: 0644}}
  - {src: packaging/copyright, dst: /usr/share/doc/timeclock-cloud/copyright, file_info: {mode: 0644}}
  - {src: packaging/lintian/timeclock-cloud, dst: /usr/share/lintian/overrides/timeclock-cloud, file_info: {mode: 0644}}
  - {src: $work/$name.changelog.gz, dst: /usr/share/doc/timeclock-cloud/changelog.gz, file_info: {mode: 0644}}
scripts:
  postinstall: packaging/deb/timeclock-cloud/postinst
  preremove: packaging/deb/timeclock-cloud/prerm
  postremove: packaging/deb/timeclock-cloud/postrm
YAML
	fi
	local out="$DIST/${name}_${version}_${arch}.deb"
	"$nfpm" package --config "$yaml" --packager deb --target "$out" >/dev/null
	printf '%-52s %9d bytes\n' "${out#"$root"/}" "$(stat -c %s "$out")"
}

for arch in $ARCHES; do
	package timeclockd "$arch"
	case $arch in amd64 | arm64) package timeclock-cloud "$arch" ;; esac
done
rm -rf "$work"
