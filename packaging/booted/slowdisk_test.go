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
// measured in the guest) and samples. It needs $TIMECLOCK_VM_IMAGE and
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
	fsync := guestFsyncMS(b, m)
	s := m.DialSim(b, 3*time.Minute)
	s.WaitScreen("Badge or PIN", time.Minute)
	n := max(b.N, slowSamples)
	var rec latency.Recorder
	b.StartTimer()
	for i := range n {
		w := i % workers
		start := time.Now()
		s.OK("badge %d", 1_000_000+w)
		if r := s.OK("wait 60000 W%06d", w); r["ok"] != true {
			b.Fatalf("punch %d: no accepted screen: %v", i, r)
		}
		rec.Add(time.Since(start))
	}
	b.StopTimer()
	if got := s.OK("status")["pending"]; got != float64(n) {
		b.Errorf("pending=%v after %d accepted punches", got, n)
	}
	rec.Report(b)
	b.ReportMetric(float64(rec.Len()), "samples")
	b.ReportMetric(fsync, "fsync-ms")
	b.Logf("slow disk (dm-delay %d ms on writes and flushes): fsync %.1f ms; %d punches: p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		slowDelayMS, fsync, rec.Len(), ms(rec.Percentile(50)), ms(rec.Percentile(99)), ms(rec.Percentile(100)))
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
