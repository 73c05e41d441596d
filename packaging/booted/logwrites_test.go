package booted

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"timeclock/internal/vmtest"
	"timeclock/internal/vmtest/logwrites"
)

// The crash test's disks: the state file system on a dm-log-writes device
// (data and log), and a blank disk the size of the data disk to replay
// onto, with a disk for the snapshot each crash point is opened through.
var (
	lwData   = vmtest.Disk{Name: "tclwdata", MiB: 48, Scratch: true}
	lwLog    = vmtest.Disk{Name: "tclwlog", MiB: 256, Scratch: true}
	lwReplay = vmtest.Disk{Name: "tclwreplay", MiB: 48, Scratch: true}
	lwCow    = vmtest.Disk{Name: "tclwcow", MiB: 32, Scratch: true}
)

func logWritesDisks() []vmtest.Disk { return []vmtest.Disk{lwData, lwLog, lwReplay, lwCow} }

// lwPunches is how many punches the logged run takes:
// $TIMECLOCK_VM_LW_PUNCHES (make soak: 40), default 8 (make test).
func lwPunches(t *testing.T) int {
	v := os.Getenv("TIMECLOCK_VM_LW_PUNCHES")
	if v == "" {
		return 8
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > workers {
		t.Fatalf("TIMECLOCK_VM_LW_PUNCHES=%q: want 1 to %d", v, workers)
	}
	return n
}

// buildGuest builds a command of this repo (an import path) static for
// the guest into the machine's share, named as its last path element.
func buildGuest(t testing.TB, m *vmtest.Machine, pkg string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", filepath.Join(m.Share, path.Base(pkg)), pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
}

// crashPoints records every write, flush and FUA write of the clock's
// state disk with dm-log-writes while badges are swiped, with a mark in
// the log after each accepted screen; then replays the log to every crash
// point and opens the state there (crashcheck, in the guest). At every
// point the state opens undamaged and holds every punch accepted before it
// (the marks say which), none twice, in sequence order.
func crashPoints(t *testing.T, m *vmtest.Machine) {
	buildGuest(t, m, "timeclock/internal/vmtest/crashcheck")
	lwPunches := lwPunches(t)
	m.Run(t, guestTimeout, fmt.Sprintf(`set -e
tcvm-share
systemctl stop timeclockd
umount /var/lib/timeclock
modprobe -a dm_log_writes dm_snapshot
udevadm settle
dmsetup create tclw --table "0 $(blockdev --getsz %[1]s) log-writes %[1]s %[2]s"
dmsetup message tclw 0 mark start
mkfs.ext4 -q -E nodiscard,lazy_itable_init=0,lazy_journal_init=0 -L tclw /dev/mapper/tclw
mount -t ext4 /dev/mapper/tclw /var/lib/timeclock
dmsetup message tclw 0 mark mkfs
systemctl reset-failed timeclockd; systemctl start timeclockd`, lwData.DevPath(), lwLog.DevPath()))
	s := dialIdle(t, m)
	for i := range lwPunches {
		if _, err := s.Try("badge %d", 1_000_000+i); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Try("wait 60000 W%06d", i); err != nil || r["ok"] != true {
			t.Fatalf("punch %d: no accepted screen (%v %v)", i, r, err)
		}
		// Everything the clock made durable before its accepted screen is
		// in the log before this mark.
		m.Run(t, guestTimeout, fmt.Sprintf("dmsetup message tclw 0 mark punch-%d", i+1))
	}
	// A log that stopped (dm-log-writes disables logging at its first
	// failed write) would leave crash points unchecked: say so plainly.
	if errs := m.Run(t, guestTimeout, `dmesg | grep -E "log-writes|I/O error" || true`); strings.TrimSpace(errs) != "" {
		t.Fatalf("the dm-log-writes log is incomplete, its device failed in the guest:\n%s", errs)
	}
	start := time.Now()
	m.Run(t, guestTimeout, `set -e
systemctl stop timeclockd
umount /var/lib/timeclock
# The umount closes the device written to: udev probes it (blkid) on that
# close, and a remove while the probe holds it open fails "busy".
udevadm settle
dmsetup remove --retry tclw
mount /var/lib/timeclock
systemctl reset-failed timeclockd; systemctl start timeclockd`)
	out, rc, err := m.Exec(20*time.Minute, fmt.Sprintf("tcvm-share; /mnt/host/crashcheck -log %s -replay %s -cow %s -from mkfs",
		lwLog.DevPath(), lwReplay.DevPath(), lwCow.DevPath()))
	if err != nil || rc != 0 {
		t.Fatalf("crashcheck: %v, exit %d\n%s", err, rc, lastLines(out, 30))
	}
	var pts []logwrites.Point
	var summary string
	for _, l := range strings.Split(out, "\n") {
		var p logwrites.Point
		if strings.HasPrefix(l, "crashcheck:") {
			summary += strings.TrimPrefix(l, "crashcheck: ") + "; "
		}
		if !strings.HasPrefix(l, "{") {
			continue
		}
		if err := json.Unmarshal([]byte(l), &p); err != nil {
			t.Fatalf("crashcheck line %q: %v", l, err)
		}
		pts = append(pts, p)
	}
	accepted := 0 // punches whose mark came before this point
	flushes, withState := 0, 0
	for _, p := range pts {
		if p.Mark != "" {
			fmt.Sscanf(p.Mark, "punch-%d", &accepted)
		}
		if p.Flags&(logwrites.Flush|logwrites.FUA) != 0 {
			flushes++
		}
		if p.Err != "" || p.Damaged {
			t.Errorf("crash point at entry %d (flags %#x): state damaged=%v, %s", p.Entry, p.Flags, p.Damaged, p.Err)
			continue
		}
		if !p.HasState {
			if accepted > 0 {
				t.Errorf("crash point at entry %d: no state.db after %d accepted punches", p.Entry, accepted)
			}
			continue
		}
		withState++
		in := map[string]bool{}
		var last uint64
		for _, q := range p.Punches {
			if q.Seq <= last {
				t.Errorf("crash point at entry %d: sequence %d after %d", p.Entry, q.Seq, last)
			}
			last = q.Seq
			if in[q.Employee] {
				t.Errorf("crash point at entry %d: %s twice (each worker punched once)", p.Entry, q.Employee)
			}
			in[q.Employee] = true
		}
		for i := range accepted {
			if emp := fmt.Sprintf("E%06d", i); !in[emp] {
				t.Errorf("crash point at entry %d: punch %d (%s) lost: accepted on screen before this point", p.Entry, i+1, emp)
			}
		}
		if len(p.Punches) > lwPunches {
			t.Errorf("crash point at entry %d: %d punches, %d were swiped", p.Entry, len(p.Punches), lwPunches)
		}
	}
	if accepted != lwPunches {
		t.Errorf("the marks name %d accepted punches, want %d", accepted, lwPunches)
	}
	if flushes < lwPunches {
		t.Errorf("only %d flush points for %d durable punches", flushes, lwPunches)
	}
	t.Logf("dm-log-writes: %s; %d crash points checked after mkfs (%d flush/FUA, %d with a state file) in %.0f s",
		summary, len(pts), flushes, withState, time.Since(start).Seconds())
	if !t.Failed() {
		t.Logf("dm-log-writes: at every crash point the state opened undamaged with every punch accepted before it (%d punches)", lwPunches)
	}
}

func lastLines(s string, n int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
