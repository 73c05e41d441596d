// Command crashcheck runs inside the booted tier's virtual machine (the
// test builds it static and shares it): it replays a dm-log-writes log of
// the clock's state disk onto a blank disk, stops at every crash point
// (each flush, FUA write and mark), and opens the clock's state as it
// stood there, as timeclockd would after a power cut at that moment: the
// disk behind a throw-away snapshot (dm-snapshot, so ext4's journal
// recovery at mount does not change the replay), mounted, state.db opened
// with the store and journal packages. It prints one JSON line per crash
// point (logwrites.Point) for the test to check.
//
//	crashcheck -log /dev/vdd -replay /dev/vde -cow /dev/vdf -from MARK
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/internal/vmtest/logwrites"
)

func main() {
	logDev := flag.String("log", "", "the dm-log-writes log device")
	replay := flag.String("replay", "", "a blank device the size of the logged one")
	cow := flag.String("cow", "", "a device for the snapshot's changes")
	from := flag.String("from", "", "check crash points only after this mark (the file system made)")
	mnt := flag.String("mnt", "/mnt/replay", "where to mount each crash point's disk")
	flag.Parse()
	if err := run(*logDev, *replay, *cow, *from, *mnt); err != nil {
		fmt.Fprintln(os.Stderr, "crashcheck:", err)
		os.Exit(1)
	}
}

func run(logDev, replayDev, cowDev, from, mnt string) error {
	lf, err := os.Open(logDev)
	if err != nil {
		return err
	}
	defer lf.Close()
	l, err := logwrites.Open(lf)
	if err != nil {
		return err
	}
	dev, err := os.OpenFile(replayDev, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer dev.Close()
	sectors, err := exec.Command("blockdev", "--getsz", replayDev).Output()
	if err != nil {
		return fmt.Errorf("blockdev --getsz %s: %w", replayDev, err)
	}
	table := fmt.Sprintf("0 %s snapshot %s %s N 8", strings.TrimSpace(string(sectors)), replayDev, cowDev)
	if err := os.MkdirAll(mnt, 0o755); err != nil {
		return err
	}
	r := l.NewReplayer(dev)
	var spent [5]time.Duration // replay, dmsetup create, mount, open, umount+remove
	defer func() {
		fmt.Fprintf(os.Stderr, "crashcheck: time spent: replay %v, dmsetup create %v, mount %v, open %v, umount and remove %v\n",
			spent[0].Round(time.Millisecond), spent[1].Round(time.Millisecond), spent[2].Round(time.Millisecond),
			spent[3].Round(time.Millisecond), spent[4].Round(time.Millisecond))
	}()
	started := from == ""
	enc := json.NewEncoder(os.Stdout)
	fmt.Fprintf(os.Stderr, "crashcheck: %d entries, %d crash points, sector size %d\n", len(l.Entries), len(l.CrashPoints()), l.SectorSize)
	for _, e := range l.CrashPoints() {
		if !started {
			started = e.Has(logwrites.Mark) && e.Mark == from
			continue
		}
		t0 := time.Now()
		if err := r.Through(e.Index); err != nil {
			return err
		}
		if err := dev.Sync(); err != nil {
			return err
		}
		spent[0] += time.Since(t0)
		p := logwrites.Point{Entry: e.Index, Flags: e.Flags, Mark: e.Mark}
		if err := check(&p, table, mnt, &spent); err != nil {
			p.Err = err.Error()
		}
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	if !started {
		return fmt.Errorf("no mark %q in the log", from)
	}
	return nil
}

// check opens the state at one crash point: a snapshot of the replayed
// disk, mounted (ext4 replays its journal into the snapshot), state.db
// opened by the store (which sets a damaged file aside) and the journal.
func check(p *logwrites.Point, table, mnt string, spent *[5]time.Duration) (err error) {
	t0 := time.Now()
	// No udev round trip per snapshot: dmsetup makes the node itself.
	if out, err := exec.Command("dmsetup", "create", "--noudevsync", "--verifyudev", "tccrash", "--table", table).CombinedOutput(); err != nil {
		return fmt.Errorf("dmsetup create: %v: %s", err, out)
	}
	spent[1] += time.Since(t0)
	defer func() {
		t0 := time.Now()
		if out, e := exec.Command("dmsetup", "remove", "--noudevsync", "--retry", "tccrash").CombinedOutput(); e != nil && err == nil {
			err = fmt.Errorf("dmsetup remove: %v: %s", e, out)
		}
		spent[4] += time.Since(t0)
	}()
	t0 = time.Now()
	// noinit_itable: no lazy inode-table zeroing thread writing into the
	// snapshot (the file system is made without lazy init anyway).
	if out, err := exec.Command("mount", "-t", "ext4", "-o", "noinit_itable", "/dev/mapper/tccrash", mnt).CombinedOutput(); err != nil {
		return fmt.Errorf("mount: %v: %s", err, out)
	}
	spent[2] += time.Since(t0)
	defer func() {
		t0 := time.Now()
		if out, e := exec.Command("umount", mnt).CombinedOutput(); e != nil && err == nil {
			err = fmt.Errorf("umount: %v: %s", e, out)
		}
		spent[4] += time.Since(t0)
	}()
	t0 = time.Now()
	defer func() { spent[3] += time.Since(t0) }()
	_, statErr := os.Stat(filepath.Join(mnt, "state.db"))
	p.HasState = statErr == nil
	if !p.HasState {
		return nil
	}
	st, err := store.Open(mnt, store.Options{})
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer st.Close()
	aside, _ := filepath.Glob(filepath.Join(mnt, "state.db.damaged*"))
	p.Damaged = len(aside) > 0
	j, err := journal.Open(st, journal.Options{})
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer j.Close()
	ps, err := j.PendingAfter(0, 1<<30)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	for _, q := range ps {
		p.Punches = append(p.Punches, logwrites.PointPunch{Seq: q.Seq, ID: q.ID.String(), Employee: q.Employee})
	}
	return nil
}
