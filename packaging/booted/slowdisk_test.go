package booted

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"timeclock/internal/daemontest"
	"timeclock/internal/latency"
	"timeclock/internal/vmtest"
)

// slowDelayMS is dm-delay's delay on every write and every flush of the
// slow state disk: an SD card or eMMC whose fsync costs several ms.
const slowDelayMS = 5

// slowSamples is the fewest punches measured (make bench refuses a p99
// from fewer than 200).
const slowSamples = 200

var slowDisk = vmtest.Disk{Name: "tcslow", MiB: 64}

// BenchmarkSlowDiskPunch measures what a clock on a slow disk shows its
// users: the installed agent (systemd, the package's unit) in the booted
// VM with its state directory on a dm-delay device (slowDelayMS on writes
// and flushes), badges swiped through the sim board's control socket, and
// for each the time from the swipe to the accepted screen, which the agent
// shows only after the punch is durable (fsync). It reports p50-ms,
// p99-ms, max-ms, fsync-ms (one 4 KiB write and fdatasync on that disk,
// measured in the guest) and samples; and first, on the same boot, disk
// and agent with the delay set to 0, nodelay-p50-ms, nodelay-p99-ms and
// nodelay-fsync-ms: what a punch costs this VM under TCG by itself, the
// floor the delay adds to (under TCG here that floor alone is far above a
// clock's own figures). It needs $TIMECLOCK_VM_IMAGE and
// $TIMECLOCK_VM_DEB (make test-vm's image and package) and skips without.
// The swipe and the screen cross qemu's user network and the guest's
// socat; that round trip is in the figures, as it would be for any client.
func BenchmarkSlowDiskPunch(b *testing.B) {
	if os.Getenv("TIMECLOCK_VM_IMAGE") == "" || os.Getenv("TIMECLOCK_VM_DEB") == "" {
		b.Skip("the slow-disk benchmark boots the booted tier's VM: set TIMECLOCK_VM_IMAGE and TIMECLOCK_VM_DEB (make test-vm builds both)")
	}
	b.StopTimer()
	m := vmtest.New(b, vmtest.FromEnv(b), vmtest.Opts{Disks: []vmtest.Disk{slowDisk}})
	writeRoster(b, m.Share)
	cfg, _ := json.Marshal(map[string]any{"board": "sim", "timezone": "UTC", "duplicate_window": "0s",
		"feedback_time": "200ms", "roster_file": "/etc/timeclock/roster.json"})
	if err := os.WriteFile(filepath.Join(m.Share, "timeclockd.json"), cfg, 0o644); err != nil {
		b.Fatal(err)
	}
	copyFile(b, os.Getenv("TIMECLOCK_VM_DEB"), filepath.Join(m.Share, "timeclockd.deb"), 0o644)
	m.Boot(b)
	m.Run(b, 5*time.Minute, fmt.Sprintf(`set -e
tcvm-share
dpkg -i /mnt/host/timeclockd.deb >/dev/null
systemctl stop timeclockd
install -m 644 /mnt/host/roster.json /etc/timeclock/roster.json
install -m 644 /mnt/host/timeclockd.json /etc/timeclock/timeclockd.json
umount /var/lib/timeclock
mkfs.ext4 -q -E nodiscard %[1]s
modprobe dm_delay
n=$(blockdev --getsz %[1]s)
dmsetup create tcslow --table "0 $n delay %[1]s 0 0 %[1]s 0 %[2]d %[1]s 0 %[2]d"
mount -t ext4 /dev/mapper/tcslow /var/lib/timeclock
systemctl reset-failed timeclockd; systemctl start timeclockd`, slowDisk.DevPath(), slowDelayMS))
	if tbl := m.Run(b, guestTimeout, "dmsetup table tcslow; findmnt -no SOURCE /var/lib/timeclock"); !strings.Contains(tbl, "tcslow") {
		b.Fatalf("the state directory is not on the delayed disk:\n%s", tbl)
	}
	s := m.DialSim(b, 3*time.Minute)
	s.WaitScreen("Badge or PIN", time.Minute)
	n := max(b.N, slowSamples)
	// The same boot, disk and agent without the delay first: what this
	// VM under TCG costs a punch by itself (the floor the delay adds to).
	setDelay(b, m, 0)
	floorFsync := guestFsyncMS(b, m)
	floor := slowPunches(b, s, n, 0)
	setDelay(b, m, slowDelayMS)
	fsync := guestFsyncMS(b, m)
	b.StartTimer()
	rec := slowPunches(b, s, n, n)
	b.StopTimer()
	rec.Report(b)
	b.ReportMetric(float64(rec.Len()), "samples")
	b.ReportMetric(fsync, "fsync-ms")
	b.ReportMetric(ms(floor.Percentile(50)), "nodelay-p50-ms")
	b.ReportMetric(ms(floor.Percentile(99)), "nodelay-p99-ms")
	b.ReportMetric(floorFsync, "nodelay-fsync-ms")
	b.Logf("slow disk (dm-delay %d ms on writes and flushes): fsync %.1f ms; %d punches: p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		slowDelayMS, fsync, rec.Len(), ms(rec.Percentile(50)), ms(rec.Percentile(99)), ms(rec.Percentile(100)))
	b.Logf("the same VM and disk without the delay: fsync %.1f ms; %d punches: p50 %.1f ms, p99 %.1f ms",
		floorFsync, floor.Len(), ms(floor.Percentile(50)), ms(floor.Percentile(99)))
}

// setDelay reloads the slow disk's dm-delay table with delayMS on writes
// and flushes (the file system stays mounted; suspend drains its I/O).
func setDelay(b *testing.B, m *vmtest.Machine, delayMS int) {
	b.Helper()
	m.Run(b, guestTimeout, fmt.Sprintf(`set -e
d=%[1]s
n=$(blockdev --getsz $d)
dmsetup suspend tcslow
dmsetup reload tcslow --table "0 $n delay $d 0 0 $d 0 %[2]d $d 0 %[2]d"
dmsetup resume tcslow
dmsetup table tcslow | awk '$9 != %[2]d || $12 != %[2]d { exit 1 }'`, slowDisk.DevPath(), delayMS))
}

// slowPunches swipes n badges, each waiting for its accepted screen, and
// records swipe to screen; done is how many punches the clock took before.
func slowPunches(b *testing.B, s *daemontest.Sim, n, done int) *latency.Recorder {
	b.Helper()
	var rec latency.Recorder
	for i := range n {
		w := i % workers
		start := time.Now()
		s.OK("badge %d", 1_000_000+w)
		if r := s.OK("wait 60000 W%06d", w); r["ok"] != true {
			b.Fatalf("punch %d: no accepted screen: %v", done+i, r)
		}
		rec.Add(time.Since(start))
	}
	if got := s.OK("status")["pending"]; got != float64(done+n) {
		b.Errorf("pending=%v after %d accepted punches", got, done+n)
	}
	return &rec
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// guestFsyncMS is what one 4 KiB overwrite and fdatasync of a file in the
// state directory costs in the guest: 40 of them timed, less 40 without
// the fdatasync (dd's own start-up under TCG), in ms each.
func guestFsyncMS(b *testing.B, m *vmtest.Machine) float64 {
	b.Helper()
	out := m.Run(b, guestTimeout, `set -e
f=/var/lib/timeclock/fsync-probe
dd if=/dev/zero of=$f bs=4096 count=1 conv=fsync status=none
t() { s=$(date +%s%N); for i in $(seq 40); do dd if=/dev/zero of=$f bs=4096 count=1 conv=notrunc$1 status=none; done; e=$(date +%s%N); echo $((e - s)); }
with=$(t ,fdatasync)
without=$(t "")
rm -f $f
echo "$with $without"`)
	f := strings.Fields(out)
	if len(f) != 2 {
		b.Fatalf("fsync probe: %q", out)
	}
	with, err1 := strconv.ParseFloat(f[0], 64)
	without, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("fsync probe: %q", out)
	}
	return (with - without) / 40 / 1e6
}
