#!/usr/bin/env bash
# Installs the Debian packages a make target needs, when they are missing.
# As root it installs them (apt-get, no prompts); otherwise it names them and
# fails, so nothing half-works.
#
#   scripts/deps.sh test   tools make test uses
#   scripts/deps.sh run    tools make run uses
#   scripts/deps.sh package tools make package uses
#   scripts/deps.sh vm     tools make test-vm uses (image build, qemu)
set -euo pipefail

want=()
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || want+=("$2")
}

case "${1:-test}" in
test)
	need qemu-arm qemu-user
	need qemu-aarch64 qemu-user
	need tmux tmux
	need socat socat
	need picocom picocom
	need mosquitto mosquitto
	need mosquitto_pub mosquitto-clients
	need nft nftables
	need ip iproute2
	need gcc gcc # go test -race needs cgo
	need chromium chromium # the admin pages' browser tests (headless)
	need lintian lintian   # the packages' test (scripts/package_test.go)
	need dpkg-deb dpkg
	need systemd-analyze systemd # the units' exposure (offline)
	need strace strace           # make bench: the fsync-delay model on the host CPU
	;;
package)
	need dpkg-deb dpkg
	need lintian lintian
	;;
vm)
	need mmdebstrap mmdebstrap
	need qemu-system-x86_64 qemu-system-x86
	need qemu-img qemu-utils
	need mkfs.ext4 e2fsprogs
	need debugfs e2fsprogs
	need flock util-linux
	need socat socat
	need picocom picocom
	;;
run)
	need tmux tmux # make run: clock and cloud output side by side (optional)
	;;
*)
	echo "deps.sh: unknown set $1 (test, run, package or vm)" >&2
	exit 2
	;;
esac

[ ${#want[@]} -eq 0 ] && exit 0
mapfile -t want < <(printf '%s\n' "${want[@]}" | sort -u)
if [ "$(id -u)" != 0 ]; then
	echo "missing tools; install them first:" >&2
	echo "    sudo apt-get install -y ${want[*]}" >&2
	exit 1
fi
echo "installing: ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another make test (or apt) beside this one may hold the dpkg lock: wait for it.
lock=(-o DPkg::Lock::Timeout=600)
apt-get "${lock[@]}" update -qq
apt-get "${lock[@]}" install -y -qq --no-install-recommends "${want[@]}" >/dev/null
