#!/usr/bin/env bash
# Builds (once) and caches the booted-Linux test tier's image: a minimal
# Debian 12 amd64 root filesystem with systemd as a raw ext4 image, and the
# kernel and a small initrd beside it (booted with qemu -kernel/-initrd).
# Prints the image directory on stdout (the last line); everything else
# goes to stderr.
#
#   scripts/vm-image.sh            build if missing, print the directory
#   scripts/vm-image.sh --key      print the cache key only
#
# The cache lives outside the clone, in $TIMECLOCK_VM_CACHE (default
# /var/cache/timeclock-vm), one directory per key: the SHA-256 of this
# script, which holds the package list and every file put into the image.
# A build happens in a temporary directory beside the cache and is renamed
# into place when complete, under a lock, so an interrupted build never
# leaves a half image and two runs at once build it once.
#
# The packages come from the mirror this machine's own apt sources name
# (never a host written here), suite bookworm. The kernel is Debian
# trixie-backports' (same mirror), pinned below by version and SHA-256: it
# has dm-log-writes, dm-delay, dm-flakey, gpio-sim and i2c-stub. The suite
# keeps only its newest kernel, so its two .debs are kept in the cache's
# debs/ (outside the clone) once fetched, and the pin is part of the key.
set -euo pipefail

suite=bookworm
# The image's packages. The kernel is not among them: its .debs are only
# unpacked, vmlinuz and the modules the tier needs taken out.
packages=(
	systemd-sysv udev kmod iproute2 procps adduser socat dmsetup e2fsprogs
)
kernel_suite=trixie-backports
kernel_version=7.3.4+deb13-amd64
kernel_debs=(
	"linux-binary-$kernel_version 7.3.4-1~bpo13+1 7e3248d03a84dcdda88c567aa8c4038f2e7795d2dd167b112c56f8901b6f513f"
	"linux-modules-$kernel_version 7.3.4-1~bpo13+1 b3ea01922c9f133767a83cf6891c19b3693858ded617bf22d1e34f95382c08ea"
	"linux-base-$kernel_version 7.3.4-1~bpo13+1 5663505495b5c90be94af42105c7b28629802516779102dac48d5a00cc00fccf"
)
# Loaded by the initrd (with what they depend on) and so in the kernel for
# the whole boot (virtio_pci and virtio_console are built in).
modules=(
	virtio_pci virtio_blk virtio_net virtio_console virtio_rng
	ext4 9p 9pnet_virtio
)
# In the rootfs's /lib/modules (with what they depend on), for modprobe:
# the device-mapper targets the crash and slow-disk tests stack under the
# state disk, and the simulated GPIO and I2C devices.
extra_modules=(
	dm_mod dm_log_writes dm_snapshot dm_delay dm_flakey gpio_sim i2c_stub i2c_dev
)

cache=${TIMECLOCK_VM_CACHE:-/var/cache/timeclock-vm}
self=$(readlink -f "$0")
key=$(sha256sum "$self" | cut -c1-16)
if [ "${1:-}" = --key ]; then
	echo "$key"
	exit 0
fi
out=$cache/$key
log() { echo "vm-image: $*" >&2; }

complete() { [ -f "$1/rootfs.img" ] && [ -f "$1/vmlinuz" ] && [ -f "$1/initrd.img" ] && [ -f "$1/manifest" ]; }

if complete "$out"; then
	touch "$out/manifest"
	echo "$out"
	exit 0
fi

# mirrors prints "URI SUITE" for each Debian suite in this machine's apt
# sources (deb822 .sources files and the one-line sources.list format).
mirrors() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk '
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			tolower($1) == "types:" { types = $0 }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { suites = ""; for (i = 2; i <= NF; i++) suites = suites " " $i }
			tolower($1) == "enabled:" { enabled = $2 }
			function flush(  n, s, i) {
				if (uri != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
					n = split(suites, s, " ")
					for (i = 1; i <= n; i++) print uri, s[i]
				}
				uri = ""; suites = ""; types = ""; enabled = ""
			}
			END { flush() }
		' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk '$1 == "deb" { print $2, $3 }'
	done
}

# The image's sources: the machine's mirror for the Debian archive and its
# security mirror, with bookworm's suites.
archive=$(mirrors | awk '$2 !~ /-security$/ && $1 !~ /security/ { print $1; exit }')
security=$(mirrors | awk '$2 ~ /-security$/ { print $1; exit }')
if [ -z "$archive" ]; then
	log "no Debian mirror in this machine's apt sources (/etc/apt/sources.list.d/*.sources, /etc/apt/sources.list)"
	exit 1
fi
sources=("deb $archive $suite main" "deb $archive $suite-updates main")
[ -n "$security" ] && sources+=("deb $security $suite-security main")

mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -w 1800 9; then
	log "another build of $cache held the lock for 30 minutes"
	exit 1
fi
# Under the lock: someone else may have built it meanwhile, and a build
# killed earlier left its temporary directory behind.
if complete "$out"; then
	touch "$out/manifest"
	echo "$out"
	exit 0
fi
rm -rf "$cache"/.tmp-*

# The kernel's .debs: from the cache, else fetched with apt-get download
# from the machine's mirror (apt checks the suite's signature with this
# machine's keyring), and always checked against the pinned SHA-256.
debs=$cache/debs
mkdir -p "$debs"
kdebs=()
need=()
for d in "${kernel_debs[@]}"; do
	read -r name version sum <<<"$d"
	f=$debs/${name}_${version//:/%3a}_amd64.deb
	if ! echo "$sum  $f" | sha256sum -c --status 2>/dev/null; then
		need+=("$name=$version")
	fi
	kdebs+=("$f")
done
if [ ${#need[@]} -gt 0 ]; then
	log "fetching ${need[*]} from $archive $kernel_suite"
	apt=$(mktemp -d "$cache/.tmp-apt-XXXXXX")
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/prefs"
	echo "deb $archive $kernel_suite main" >"$apt/sources.list"
	touch "$apt/status"
	aptopts=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=-
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o "Dir::State::status=$apt/status"
		-o "Dir::Etc::preferencesparts=$apt/prefs" -o APT::Sandbox::User=root)
	apt-get -q "${aptopts[@]}" update >&2
	(cd "$debs" && apt-get -q "${aptopts[@]}" download "${need[@]}" >&2)
	rm -rf "$apt"
	for d in "${kernel_debs[@]}"; do
		read -r name version sum <<<"$d"
		f=$debs/${name}_${version//:/%3a}_amd64.deb
		if ! echo "$sum  $f" | sha256sum -c --status; then
			log "$f: not the pinned $name $version (sha256 $sum): the suite may have moved on; update kernel_debs in $self"
			exit 1
		fi
	done
fi

tmp=$(mktemp -d "$cache/.tmp-$key-XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
log "building $out (${packages[*]}) from $archive"

# The customize step (sh, not bash), run by mmdebstrap with the root directory as $1 and
# the output directory as $TCVM_OUT.
customize=$(
	cat <<'EOF'
set -eu
root=$1
ch() { chroot "$root" env DEBIAN_FRONTEND=noninteractive "$@"; }
apt="apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends"

# Kernel and initrd. The kernel's .debs are unpacked in /tmp/kernel, not
# installed. The initrd is ours: busybox and the modules booting needs,
# insmod-ed in dependency order by a ten-line /init, then the root mounted
# and switched to. Debian's initramfs-tools would run udev first: seconds
# under TCG on every boot. Those modules stay loaded; the few more the
# tests load go to the rootfs's /lib/modules (uncompressed, depmod-ed).
ch $apt install busybox-static cpio >&2
ver=$TCVM_KVER
k=/tmp/kernel
mkdir -p "$root$k"
for d in $TCVM_KDEBS; do dpkg-deb -x "$d" "$root$k"; done
ch depmod -b $k/usr "$ver"
deps() { # the module files to load for modules $@, in order, each once
	for m in "$@"; do
		ch modprobe -d $k/usr -S "$ver" --show-depends "$m" >>"$root/tmp/deps" || {
			echo "vm-image: module $m: not in kernel $ver" >&2
			exit 1
		}
	done
	awk '$1 == "insmod" && !seen[$2]++ { print $2 }' "$root/tmp/deps"
	rm "$root/tmp/deps"
}
i=$root/tmp/initrd
mkdir -p "$i/bin" "$i/lib/modules" "$i/proc" "$i/sys" "$i/dev" "$i/root"
cp "$root/bin/busybox" "$i/bin/busybox"
deps $TCVM_MODULES >"$root/tmp/order"
while read -r ko; do
	b=$(basename "$ko" .xz)
	case $ko in *.xz) xz -dc "$root$ko" >"$i/lib/modules/$b" ;; *) cp "$root$ko" "$i/lib/modules/$b" ;; esac
	echo "$b" >>"$i/modules"
done <"$root/tmp/order"
kmods=$k/usr/lib/modules/$ver
mkdir -p "$root/lib/modules/$ver"
cp "$root$kmods"/modules.order "$root$kmods"/modules.builtin "$root$kmods"/modules.builtin.modinfo "$root/lib/modules/$ver/"
deps $TCVM_EXTRA_MODULES >"$root/tmp/order"
while read -r ko; do
	rel=${ko#"$kmods"/}
	mkdir -p "$(dirname "$root/lib/modules/$ver/$rel")"
	case $ko in *.xz) xz -dc "$root$ko" >"$root/lib/modules/$ver/${rel%.xz}" ;; *) cp "$root$ko" "$root/lib/modules/$ver/$rel" ;; esac
done <"$root/tmp/order"
ch depmod "$ver"
cat >"$i/init" <<'X'
#!/bin/busybox sh
b=/bin/busybox
$b mount -t proc proc /proc
$b mount -t sysfs sysfs /sys
$b mount -t devtmpfs devtmpfs /dev
for m in $($b cat /modules); do $b insmod /lib/modules/$m || echo "tcvm-init: insmod $m failed"; done
# The network: QEMU user networking's fixed addresses, set here so no
# network daemon starts (eth0: net.ifnames=0 on the kernel's command line).
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 600 ]; do n=$((n + 1)); $b usleep 50000; done
$b ip link set eth0 up && $b ip addr add 10.0.2.15/24 dev eth0 && $b ip route add default via 10.0.2.2 ||
	echo "tcvm-init: cannot set up eth0"
n=0
while [ ! -b /dev/vda ] && [ $n -lt 600 ]; do n=$((n + 1)); $b usleep 50000; done
$b mount -t ext4 -o rw /dev/vda /root || { echo "tcvm-init: cannot mount /dev/vda"; exec $b sh; }
# The state disk too: mounted from fstab, it waited for udev's coldplug
# (dev-vdb.device, 5-8 s under TCG) before the agent could start.
n=0
while [ ! -b /dev/vdb ] && [ $n -lt 600 ]; do n=$((n + 1)); $b usleep 50000; done
$b mount -t ext4 -o rw /dev/vdb /root/var/lib/timeclock || echo "tcvm-init: cannot mount the state disk /dev/vdb"
$b umount /proc /sys
$b mount --move /dev /root/dev
exec $b switch_root /root /sbin/init
X
chmod 755 "$i/init"
ch sh -c 'cd /tmp/initrd && find . | cpio -o -H newc --quiet' | gzip -1 >"$TCVM_OUT/initrd.img"
cp "$root$kmods/vmlinuz" "$TCVM_OUT/vmlinuz"
echo "$ver" >"$TCVM_OUT/kernel-version"
cp "$i/modules" "$TCVM_OUT/initrd-modules"
rm -rf "$i" "$root/tmp/order" "$root$k"
ch $apt purge --autoremove busybox-static cpio >&2

# The test harness's side: the disks, the network, a command socket, the
# sim board's socket forwarded, and a line on the console once up.
cat >"$root/etc/fstab" <<'X'
# No fsck at boot (a mount replays ext4's journal after a power cut).
/dev/vda / ext4 rw,errors=remount-ro 0 0
# The state disk the harness always attaches (cache=none): power cuts hit it.
# The initrd mounts it (no wait for udev at boot); this line is for the
# tests' own umount and mount, nofail so local-fs.target never waits on it.
LABEL=tcstate /var/lib/timeclock ext4 rw,nofail,x-systemd.device-timeout=120s 0 0
X
# The harness's read-only share (the .deb, test files): tcvm-share mounts it.
cat >"$root/usr/local/sbin/tcvm-share" <<'X'
#!/bin/sh
mountpoint -q /mnt/host || mount -t 9p -o trans=virtio,version=9p2000.L,ro host /mnt/host
X
chmod 755 "$root/usr/local/sbin/tcvm-share"

mkdir -p "$root/var/lib/timeclock" "$root/mnt/host" "$root/var/log/journal"
echo tcvm >"$root/etc/hostname"
u=$root/etc/systemd/system
mkdir -p "$u"
# The network is set up by the initrd (QEMU user networking's fixed
# addresses): no network daemon, no wait for one.
# One shell script per connection: the script is the connection's input,
# the reply its output and then the line __TCVM_RC=<exit status>.
cat >"$u/tcvm-cmd.socket" <<'X'
[Unit]
Description=test harness command socket
[Socket]
ListenStream=5555
Accept=yes
[Install]
WantedBy=sockets.target
X
cat >"$u/tcvm-cmd@.service" <<'X'
[Unit]
Description=test harness command
DefaultDependencies=no
[Service]
ExecStart=/bin/sh -c '/bin/sh -s 2>&1; echo "__TCVM_RC=$?"'
StandardInput=socket
StandardOutput=socket
KillMode=process
X
# The sim board's control socket (the agent's default, STATE_DIR/sim.sock).
cat >"$u/tcvm-sim.socket" <<'X'
[Unit]
Description=the sim board's control socket, forwarded
[Socket]
ListenStream=5556
Accept=yes
[Install]
WantedBy=sockets.target
X
cat >"$u/tcvm-sim@.service" <<'X'
[Unit]
Description=the sim board's control socket, one connection
[Service]
ExecStart=/usr/bin/socat STDIO UNIX-CONNECT:/var/lib/timeclock/sim.sock
StandardInput=socket
StandardOutput=socket
StandardError=journal
X
cat >"$u/tcvm-ready.service" <<'X'
[Unit]
Description=tell the harness the system is up
After=multi-user.target tcvm-cmd.socket
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "TCVM-READY boot_id=$(cat /proc/sys/kernel/random/boot_id)" >/dev/ttyS0'
[Install]
WantedBy=multi-user.target
X
ch systemctl enable tcvm-cmd.socket tcvm-sim.socket tcvm-ready.service >&2
# Nothing the tests do not need, nothing on a timer.
# Every unit started costs seconds under TCG (systemd-analyze blame in the
# guest): the gettys (serial-getty@ttyS0 waits for udev's ttyS0, and
# getty.target orders multi-user.target after it; the tests only read
# ttyS0, the agent has ttyS1), getty-static 2.9 s, sysusers 2.2 s (the package's postinst runs
# systemd-sysusers itself), random-seed 1.8 s (virtio-rng feeds the
# kernel), utmp 0.9-1.3 s, networkd 1.3-2.1 s and its wait 4.5 s (the
# initrd sets the network up).
ch systemctl disable systemd-networkd.service systemd-networkd.socket >&2
ch systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
	fstrim.timer dpkg-db-backup.timer systemd-tmpfiles-clean.timer getty@tty1.service e2scrub_reap.service \
	getty.target getty-static.service systemd-update-utmp.service systemd-update-utmp-runlevel.service \
	systemd-sysusers.service systemd-random-seed.service systemd-network-generator.service \
	systemd-user-sessions.service systemd-firstboot.service systemd-machine-id-commit.service \
	systemd-networkd.service systemd-networkd-wait-online.service systemd-logind.service \
	modprobe@.service systemd-modules-load.service systemd-pstore.service \
	dev-hugepages.mount dev-mqueue.mount sys-kernel-debug.mount \
	sys-kernel-tracing.mount sys-fs-fuse-connections.mount sys-kernel-config.mount >&2
ch $apt clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
ch dpkg-query -W -f '${Package} ${Version}\n' >"$TCVM_OUT/manifest"
EOF
)

rootdir=$tmp/root
mkdir "$rootdir"
TCVM_OUT=$tmp TCVM_MODULES="${modules[*]}" TCVM_EXTRA_MODULES="${extra_modules[*]}" \
	TCVM_KVER=$kernel_version TCVM_KDEBS="${kdebs[*]}" mmdebstrap --mode=root --variant=minbase \
	--include="$(
		IFS=,
		echo "${packages[*]}"
	)" \
	--customize-hook="$customize" \
	"$suite" "$rootdir" "${sources[@]}" >&2

# mmdebstrap leaves /etc/machine-id "uninitialized" (a reproducible image),
# which makes every boot of a -snapshot machine a first boot (presets,
# sysusers: seconds under TCG). One fixed ID serves every test machine.
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$rootdir/etc/machine-id"
echo >>"$rootdir/etc/machine-id"

size=$(($(du -sm "$rootdir" | cut -f1) + 512))
mkfs.ext4 -q -F -L tcroot -d "$rootdir" "$tmp/rootfs.img" "${size}M" >&2
rm -rf "$rootdir"
log "built in $((SECONDS - start)) s: kernel $(cat "$tmp/kernel-version"), $(wc -l <"$tmp/manifest") packages, ${size} MiB image"
rm -rf "$out" # an incomplete one from before this script built atomically
mv -T "$tmp" "$out"
trap - EXIT
echo "$out"
