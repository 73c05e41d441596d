package booted

import (
	"encoding/json"
	"errors"
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

// The slow-disk models, dm-delay's delays in ms on the state disk's writes
// and on its flushes. dm-delay holds a request for whole ticks of the guest
// kernel (HZ=250: 4 ms), so 4 is held 4 ms and 5 is held 8. The target
// row's model is issue 16's "fsync delayed to about 5 ms": flushes held one
// tick, writes not, so a 4 KiB write + fdatasync costs about 4 ms in the
// guest (fsync-ms says what it cost; 5 would make it 8). The harsher one
// delays every write too and rounds up, 8 ms each (a write + fdatasync then
// costs about 16 ms: the data write and the flush, each held);
// informational, the model of the tables before 2026-12-03.
const (
	slowWriteMS, slowFlushMS   = 0, 4
	harshWriteMS, harshFlushMS = 5, 5
)

// slowSamples is the fewest punches measured (make bench refuses a p99
// from fewer than 200).
const slowSamples = 200

var slowDisk = vmtest.Disk{Name: "tcslow", MiB: 64}

// BenchmarkSlowDiskPunch measures what a clock on a slow disk shows its
// users: the installed agent (systemd, the package's unit) in the booted
// VM with its state directory on a dm-delay device (slowWriteMS on writes,
// slowFlushMS on flushes: an fsync of about 5 ms, issue 16's model), and
// for each badge the time from the swipe to the accepted screen, which the
// agent shows only after the punch is durable (fsync).
//
// Like the host row (BenchmarkBadgeToFeedback), the target figures are
// timed by a client on the same machine as the agent: slowprobe
// (internal/vmtest/slowprobe, built static and shared) swipes the badges on
// the guest's own sim socket, one at a time, each waiting for its accepted
// screen: p50-ms, p99-ms, max-ms and samples. On the same boot:
//   - nodelay-p50-ms, nodelay-p99-ms: the same in the guest with the delay
//     set to 0: what a punch costs this VM under TCG by itself (the floor
//     the delay adds to);
//   - slirp-p50-ms, slirp-p99-ms (informational): the same punches swiped
//     from the host through qemu's user network and the guest's socat, two
//     round trips each, as an outside client sees them;
//   - fsync-ms, nodelay-fsync-ms: the p50 of slowSamples 4 KiB overwrites
//   - fdatasync of one file on that disk, timed in one program in the
//     guest (a data write and a flush each): the model as the agent's disk
//     presents it;
//   - rtt-ms: the p50 of slowSamples "screen" commands on the same socket
//     in the guest: the client's and the socket's share of the floor;
//   - commit-ms, nodelay-commit-ms: the p50 of slowSamples appends, one at
//     a time, through the clock's own store and journal on that disk (one
//     bbolt commit each: the data pages + fdatasync, then the meta page +
//     fdatasync), no agent or screen around them;
//   - pages/commit, data-sync-ms, meta-sync-ms: the page writes per commit
//     bbolt counted (the meta page's included), and the p50s of the two
//     halves of that I/O timed apart with the delay (slowprobe phases: the
//     data pages written at scattered offsets + fdatasync, then one meta
//     page + fdatasync);
//   - writes/punch: the write requests that reached the delayed device
//     (its /sys/block/dm-N/stat) during the in-guest delayed run, per
//     punch; flushes/punch and disk-writes/punch: the flush and write
//     requests the virtio disk below it received (dm does not count empty
//     flushes in its own stat; every flush it delays reaches the disk);
//   - harsh-p50-ms, harsh-p99-ms, harsh-fsync-ms (informational): the
//     punches and the fsync probe again with every write delayed as well
//     (harshWriteMS, harshFlushMS), the model of the tables before
//     2026-12-03, whose fsync cost about 16 ms rather than 5.
//
// Measured (2026-12-02 23:41 UTC, machine quiet, flushes alone delayed
// 4 ms, writes not): the fsync probe 4.0 ms, punches p50 23.0 ms and p99
// 44.5 ms, on a TCG floor (no delay) of p50 17.3 ms and p99 38.7 ms: the
// floor alone is over the 25 ms target, so this VM can show what the disk
// adds, not the target met. The harsh model's fsync is 16.0 ms and its
// punches p50 52.6 ms, p99 93.3 ms: each punch sends 2.04 flushes and 6.9
// writes to the disk (bbolt's two fdatasyncs: the data pages, then the
// meta page; 5.5 page writes per commit by bbolt's count), and each half
// costs what one write + fdatasync does (16.0 and 16.1 ms). On the host's
// own CPU the same 5 ms fsync gives a punch p50 11.5 ms, p99 12.2 ms
// (BenchmarkSlowFsyncPunch in cmd/timeclockd). docs/storage.md, "The punch
// path on a slow disk", has the figures and the reasoning.
//
// It needs $TIMECLOCK_VM_IMAGE and $TIMECLOCK_VM_DEB (make test-vm's image
// and package) and skips without.
func BenchmarkSlowDiskPunch(b *testing.B) {
	if os.Getenv("TIMECLOCK_VM_IMAGE") == "" || os.Getenv("TIMECLOCK_VM_DEB") == "" {
		b.Skip("the slow-disk benchmark boots the booted tier's VM: set TIMECLOCK_VM_IMAGE and TIMECLOCK_VM_DEB (make test-vm builds both)")
	}
	b.StopTimer()
	m := vmtest.New(b, vmtest.FromEnv(b), vmtest.Opts{Disks: []vmtest.Disk{slowDisk}})
	writeRoster(b, m.Share)
	// The accepted screen stays the default 2 s, as in the host row: the
	// wait watches the screen as it is, and a client descheduled for more
	// than a short feedback time between its badge and its wait (under TCG,
	// beside other VMs) would miss it. The next badge replaces it at once.
	cfg, _ := json.Marshal(map[string]any{"board": "sim", "timezone": "UTC", "duplicate_window": "0s",
		"feedback_time": "2s", "roster_file": "/etc/timeclock/roster.json"})
	if err := os.WriteFile(filepath.Join(m.Share, "timeclockd.json"), cfg, 0o644); err != nil {
		b.Fatal(err)
	}
	copyFile(b, os.Getenv("TIMECLOCK_VM_DEB"), filepath.Join(m.Share, "timeclockd.deb"), 0o644)
	buildGuest(b, m, "timeclock/internal/vmtest/slowprobe")
	m.Boot(b)
	m.Run(b, 5*time.Minute, fmt.Sprintf(`set -e
tcvm-share
dpkg -i /mnt/host/timeclockd.deb >/dev/null
systemctl stop timeclockd
install -m 644 /mnt/host/roster.json /etc/timeclock/roster.json
install -m 644 /mnt/host/timeclockd.json /etc/timeclock/timeclockd.json
install -m 755 /mnt/host/slowprobe /usr/local/bin/slowprobe
umount /var/lib/timeclock
mkfs.ext4 -q -E nodiscard %[1]s
modprobe dm_delay
n=$(blockdev --getsz %[1]s)
dmsetup create tcslow --table "0 $n delay %[1]s 0 0 %[1]s 0 %[2]d %[1]s 0 %[3]d"
mount -t ext4 /dev/mapper/tcslow /var/lib/timeclock
systemctl reset-failed timeclockd; systemctl start timeclockd`, slowDisk.DevPath(), slowWriteMS, slowFlushMS))
	if tbl := m.Run(b, guestTimeout, "dmsetup table tcslow; findmnt -no SOURCE /var/lib/timeclock"); !strings.Contains(tbl, "tcslow") {
		b.Fatalf("the state directory is not on the delayed disk:\n%s", tbl)
	}
	// Whether one FUA write could replace a write and a flush here.
	b.Logf("virtio disk below the delay: %s", strings.TrimSpace(m.Run(b, guestTimeout, fmt.Sprintf(
		`q=/sys/block/$(basename "$(readlink -f %s)")/queue; echo "write_cache=$(cat $q/write_cache) fua=$(cat $q/fua)"`, slowDisk.DevPath()))))
	s := m.DialSim(b, 3*time.Minute)
	s.WaitScreen("Badge or PIN", time.Minute)
	n := max(b.N, slowSamples)
	// The same boot, disk and agent without the delay first: what this
	// VM under TCG costs a punch by itself (the floor the delay adds to).
	setDelay(b, m, 0)
	floorFsync := guestProbe(b, m, n, "fsync -dir /var/lib/timeclock -n %d", n)
	floorCommit := guestProbe(b, m, n, "commit -dir /var/lib/timeclock -n %d", n)
	floor := guestPunches(b, m, n, 0)
	rtt := guestProbe(b, m, n, "rtt -n %d", n)
	setDelays(b, m, slowWriteMS, slowFlushMS)
	fsync := guestProbe(b, m, n, "fsync -dir /var/lib/timeclock -n %d", n)
	commit, commitOut := guestProbeOut(b, m, n, "commit -dir /var/lib/timeclock -n %d", n)
	dataSync, metaSync, perCommit := commitPhases(b, m, n, commitOut)
	before := readDiskStat(b, m)
	b.StartTimer()
	rec := guestPunches(b, m, n, n)
	b.StopTimer()
	after := readDiskStat(b, m)
	slirp := slowPunches(b, s, n, 2*n)
	// The harsher model, every write held too (informational).
	setDelays(b, m, harshWriteMS, harshFlushMS)
	harshFsync := guestProbe(b, m, n, "fsync -dir /var/lib/timeclock -n %d", n)
	harsh := guestPunches(b, m, n, 3*n)
	rec.Report(b)
	b.ReportMetric(float64(min(rec.Len(), floor.Len(), slirp.Len(), harsh.Len())), "samples")
	b.ReportMetric(ms(slirp.Percentile(50)), "slirp-p50-ms")
	b.ReportMetric(ms(slirp.Percentile(99)), "slirp-p99-ms")
	b.ReportMetric(ms(floor.Percentile(50)), "nodelay-p50-ms")
	b.ReportMetric(ms(floor.Percentile(99)), "nodelay-p99-ms")
	b.ReportMetric(ms(fsync.Percentile(50)), "fsync-ms")
	b.ReportMetric(ms(harsh.Percentile(50)), "harsh-p50-ms")
	b.ReportMetric(ms(harsh.Percentile(99)), "harsh-p99-ms")
	b.ReportMetric(ms(harshFsync.Percentile(50)), "harsh-fsync-ms")
	b.ReportMetric(ms(floorFsync.Percentile(50)), "nodelay-fsync-ms")
	b.ReportMetric(ms(rtt.Percentile(50)), "rtt-ms")
	b.ReportMetric(ms(commit.Percentile(50)), "commit-ms")
	b.ReportMetric(ms(floorCommit.Percentile(50)), "nodelay-commit-ms")
	b.ReportMetric(perCommit, "pages/commit")
	b.ReportMetric(ms(dataSync.Percentile(50)), "data-sync-ms")
	b.ReportMetric(ms(metaSync.Percentile(50)), "meta-sync-ms")
	per := func(a, b uint64) float64 { return float64(a-b) / float64(n) }
	b.ReportMetric(per(after.dmWrites, before.dmWrites), "writes/punch")
	b.ReportMetric(per(after.diskFlushes, before.diskFlushes), "flushes/punch")
	b.ReportMetric(per(after.diskWrites, before.diskWrites), "disk-writes/punch")
	b.Logf("slow disk (dm-delay %d ms on writes, %d ms on flushes), %d punches timed in the guest: p50 %.1f ms, p99 %.1f ms, max %.1f ms; "+
		"across slirp from the host: p50 %.1f ms, p99 %.1f ms; with writes delayed %d ms too: p50 %.1f ms, p99 %.1f ms (write+fdatasync %.2f ms)",
		slowWriteMS, slowFlushMS, rec.Len(), ms(rec.Percentile(50)), ms(rec.Percentile(99)), ms(rec.Percentile(100)),
		ms(slirp.Percentile(50)), ms(slirp.Percentile(99)),
		harshWriteMS, ms(harsh.Percentile(50)), ms(harsh.Percentile(99)), ms(harshFsync.Percentile(50)))
	b.Logf("per punch: %.2f writes on the delayed device (its flushes uncounted: %.2f); on the virtio disk below it %.2f writes, %.2f flushes",
		per(after.dmWrites, before.dmWrites), per(after.dmFlushes, before.dmFlushes),
		per(after.diskWrites, before.diskWrites), per(after.diskFlushes, before.diskFlushes))
	b.Logf("a commit's I/O (%.2f page writes by bbolt's count): the data pages' writes + fdatasync p50 %.2f ms (p99 %.2f), the meta page's p50 %.2f ms (p99 %.2f)",
		perCommit, ms(dataSync.Percentile(50)), ms(dataSync.Percentile(99)), ms(metaSync.Percentile(50)), ms(metaSync.Percentile(99)))
	b.Logf("write+fdatasync p50 %.2f ms (p99 %.2f), journal commit p50 %.2f ms (p99 %.2f); without the delay: write+fdatasync p50 %.2f ms, commit p50 %.2f ms, punch p50 %.1f ms, p99 %.1f ms; a control socket round trip in the guest p50 %.2f ms",
		ms(fsync.Percentile(50)), ms(fsync.Percentile(99)), ms(commit.Percentile(50)), ms(commit.Percentile(99)),
		ms(floorFsync.Percentile(50)), ms(floorCommit.Percentile(50)), ms(floor.Percentile(50)), ms(floor.Percentile(99)), ms(rtt.Percentile(50)))
}

// guestPunches has slowprobe swipe n badges on the guest's own sim socket
// (in the guest, no network between) and returns swipe to accepted screen;
// done is how many punches the clock took before.
func guestPunches(b *testing.B, m *vmtest.Machine, n, done int) *latency.Recorder {
	b.Helper()
	out := m.Run(b, 10*time.Minute, fmt.Sprintf("slowprobe punch -n %d -workers %d", n, workers))
	rec, err := parseSamples(out, "s", n)
	if err != nil {
		b.Fatalf("slowprobe punch: %v\n%s", err, lastLines(out, 10))
	}
	if want := fmt.Sprintf("pending %d\n", done+n); !strings.Contains(out, want) {
		b.Errorf("slowprobe punch: want %q after %d accepted punches:\n%s", want, done+n, lastLines(out, 3))
	}
	return rec
}

// guestProbe runs slowprobe in the guest with the arguments and returns
// its n samples.
func guestProbe(b *testing.B, m *vmtest.Machine, n int, format string, args ...any) *latency.Recorder {
	b.Helper()
	rec, _ := guestProbeOut(b, m, n, format, args...)
	return rec
}

// guestProbeOut is guestProbe also returning slowprobe's output.
func guestProbeOut(b *testing.B, m *vmtest.Machine, n int, format string, args ...any) (*latency.Recorder, string) {
	b.Helper()
	out := m.Run(b, 10*time.Minute, "slowprobe "+fmt.Sprintf(format, args...))
	rec, err := parseSamples(out, "s", n)
	if err != nil {
		b.Fatalf("slowprobe %s: %v\n%s", fmt.Sprintf(format, args...), err, lastLines(out, 10))
	}
	return rec, out
}

// commitPhases times the two halves of a bbolt commit's I/O in the guest
// (slowprobe phases) with as many data pages as slowprobe commit's output
// says a commit wrote besides the meta page; it returns the data pages'
// write + fdatasync, the meta page's, and the pages per commit.
func commitPhases(b *testing.B, m *vmtest.Machine, n int, commitOut string) (data, meta *latency.Recorder, perCommit float64) {
	b.Helper()
	for l := range strings.Lines(commitOut) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "writes "); ok {
			perCommit, _ = strconv.ParseFloat(v, 64)
		}
	}
	if perCommit < 2 {
		b.Fatalf("slowprobe commit: no page write count (want >= 2 per commit):\n%s", lastLines(commitOut, 3))
	}
	out := m.Run(b, 10*time.Minute, fmt.Sprintf("slowprobe phases -dir /var/lib/timeclock -n %d -pages %d", n, int(perCommit-1+0.5)))
	data, err1 := parseSamples(out, "d", n)
	meta, err2 := parseSamples(out, "m", n)
	if err := errors.Join(err1, err2); err != nil {
		b.Fatalf("slowprobe phases: %v\n%s", err, lastLines(out, 10))
	}
	return data, meta, perCommit
}

// parseSamples reads slowprobe's "KIND NANOSECONDS" lines of one kind
// (other lines are left alone) and wants exactly n of them.
func parseSamples(out, kind string, n int) (*latency.Recorder, error) {
	var rec latency.Recorder
	for l := range strings.Lines(out) {
		v, ok := strings.CutPrefix(strings.TrimRight(l, "\r\n"), kind+" ")
		if !ok {
			continue
		}
		ns, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ns < 0 {
			return nil, fmt.Errorf("sample line %q: not a duration in ns", l)
		}
		rec.Add(time.Duration(ns))
	}
	if rec.Len() != n {
		return nil, fmt.Errorf("%d samples, want %d", rec.Len(), n)
	}
	return &rec, nil
}

// diskStat is what the delayed device and the virtio disk below it have
// been asked to do since boot (their /sys/block/NAME/stat).
type diskStat struct{ dmWrites, dmFlushes, diskWrites, diskFlushes uint64 }

// readDiskStat reads the write and flush request counts (fields 5 and 16
// of /sys/block/NAME/stat) of the delayed device and of its disk.
func readDiskStat(b *testing.B, m *vmtest.Machine) diskStat {
	b.Helper()
	out := m.Run(b, guestTimeout, fmt.Sprintf(`set -e
sync
dm=$(basename "$(readlink -f /dev/mapper/tcslow)")
vd=$(basename "$(readlink -f %s)")
echo dm $(cat /sys/block/$dm/stat)
echo disk $(cat /sys/block/$vd/stat)`, slowDisk.DevPath()))
	st, err := parseDiskStat(out)
	if err != nil {
		b.Fatalf("disk stat: %v\n%s", err, out)
	}
	return st
}

// parseDiskStat reads the "dm FIELDS..." and "disk FIELDS..." lines of
// readDiskStat: writes are field 5 of a block device's stat, flushes 16.
func parseDiskStat(out string) (diskStat, error) {
	var st diskStat
	seen := 0
	for l := range strings.Lines(out) {
		f := strings.Fields(l)
		if len(f) == 0 || (f[0] != "dm" && f[0] != "disk") {
			continue
		}
		if len(f) < 1+16 {
			return st, fmt.Errorf("%s stat %q: %d fields, want at least 16 (a kernel that counts flushes)", f[0], l, len(f)-1)
		}
		w, err1 := strconv.ParseUint(f[1+4], 10, 64)
		fl, err2 := strconv.ParseUint(f[1+15], 10, 64)
		if err1 != nil || err2 != nil {
			return st, fmt.Errorf("%s stat %q: not counts", f[0], l)
		}
		if f[0] == "dm" {
			st.dmWrites, st.dmFlushes = w, fl
			seen |= 1
		} else {
			st.diskWrites, st.diskFlushes = w, fl
			seen |= 2
		}
	}
	if seen != 3 {
		return st, errors.New("want a dm line and a disk line")
	}
	return st, nil
}

// setDelay reloads the slow disk's dm-delay table with delayMS on writes
// and flushes (the file system stays mounted; suspend drains its I/O).
func setDelay(b *testing.B, m *vmtest.Machine, delayMS int) {
	b.Helper()
	setDelays(b, m, delayMS, delayMS)
}

// setDelays is setDelay with writeMS on writes and flushMS on flushes.
func setDelays(b *testing.B, m *vmtest.Machine, writeMS, flushMS int) {
	b.Helper()
	m.Run(b, guestTimeout, fmt.Sprintf(`set -e
d=%[1]s
n=$(blockdev --getsz $d)
dmsetup suspend tcslow
dmsetup reload tcslow --table "0 $n delay $d 0 0 $d 0 %[2]d $d 0 %[3]d"
dmsetup resume tcslow
dmsetup table tcslow | awk '$9 != %[2]d || $12 != %[3]d { exit 1 }'`, slowDisk.DevPath(), writeMS, flushMS))
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
