// Command slowprobe runs inside the booted tier's virtual machine (the
// slow-disk benchmark builds it static and shares it) and times, in the
// guest itself, what BenchmarkSlowDiskPunch reports, so no figure includes
// qemu's user network:
//
//	slowprobe punch -sock /var/lib/timeclock/sim.sock -n 200 -workers 100
//	    swipes n badges on the sim board's control socket one at a time,
//	    each waiting for its accepted screen (badge 1000000+i names W%06d),
//	    as the host benchmark BenchmarkBadgeToFeedback does on the host;
//	slowprobe rtt -sock /var/lib/timeclock/sim.sock -n 200
//	    sends n "screen" commands, one at a time: the control socket's own
//	    round trip with its JSON, the part of a punch that is neither the
//	    punch nor the disk;
//	slowprobe fsync -dir /var/lib/timeclock -n 200
//	    overwrites one 4 KiB block of a file and fdatasyncs it, n times;
//	slowprobe commit -dir DIR -n 200
//	    appends n punches one at a time through the clock's own store and
//	    journal (a bbolt commit each: data pages + fdatasync, meta page +
//	    fdatasync) to a new state file in DIR, and prints "writes W", the
//	    page writes per commit bbolt counted (the meta page's included);
//	slowprobe phases -dir DIR -n 200 -pages K
//	    the two halves of a bbolt commit's I/O, each timed: K 4 KiB pages
//	    written at scattered offsets of a preallocated file and fdatasynced
//	    ("d NANOSECONDS"), then one page at the file's start written and
//	    fdatasynced ("m NANOSECONDS", the meta page); "s" is their sum.
//
// Each prints one line per sample, "s NANOSECONDS" (punch: swipe to
// accepted screen; rtt: command to reply; fsync: write + fdatasync;
// commit: Append's return),
// and punch ends with "pending N" from the agent's status.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/hal/sim"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: slowprobe punch|rtt|fsync|commit|phases [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	sock := fs.String("sock", "/var/lib/timeclock/sim.sock", "the sim board's control socket (punch, rtt)")
	dir := fs.String("dir", "/var/lib/timeclock", "directory on the disk to time (fsync, commit)")
	n := fs.Int("n", 200, "samples")
	workers := fs.Int("workers", 100, "roster size: badges 1000000.. name W000000.. (punch)")
	pages := fs.Int("pages", 4, "data pages per commit (phases)")
	fs.Parse(os.Args[2:])
	w := bufio.NewWriter(os.Stdout)
	var err error
	switch os.Args[1] {
	case "punch":
		err = punch(w, *sock, *n, *workers)
	case "rtt":
		err = rtt(w, *sock, *n)
	case "fsync":
		err = fsync(w, *dir, *n)
	case "commit":
		err = commit(w, *dir, *n)
	case "phases":
		err = phases(w, *dir, *n, *pages)
	default:
		err = fmt.Errorf("unknown mode %q (punch, rtt, fsync, commit or phases)", os.Args[1])
	}
	w.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, "slowprobe:", err)
		os.Exit(1)
	}
}

// client is a control socket client whose commands must succeed.
type client struct{ *sim.Client }

func (c client) do(format string, args ...any) (map[string]any, error) {
	line := fmt.Sprintf(format, args...)
	m, err := c.Do(line, 70*time.Second)
	if err == nil && m["ok"] != true {
		err = fmt.Errorf("sim %q failed: %v", line, m)
	}
	return m, err
}

func punch(w *bufio.Writer, sock string, n, workers int) error {
	if workers < 1 {
		return errors.New("-workers must be at least 1")
	}
	c, err := net.Dial("unix", sock)
	if err != nil {
		return err
	}
	defer c.Close()
	s := client{sim.NewClient(c)}
	for i := range n {
		k := i % workers
		start := time.Now()
		if _, err := s.do("badge %d", 1_000_000+k); err != nil {
			return fmt.Errorf("punch %d: %w", i, err)
		}
		if _, err := s.do("wait 60000 W%06d", k); err != nil {
			return fmt.Errorf("punch %d: no accepted screen: %w", i, err)
		}
		fmt.Fprintf(w, "s %d\n", time.Since(start))
	}
	st, err := s.do("status")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "pending %v\n", st["pending"])
	return nil
}

func rtt(w *bufio.Writer, sock string, n int) error {
	c, err := net.Dial("unix", sock)
	if err != nil {
		return err
	}
	defer c.Close()
	s := client{sim.NewClient(c)}
	for range n {
		start := time.Now()
		if _, err := s.do("screen"); err != nil {
			return err
		}
		fmt.Fprintf(w, "s %d\n", time.Since(start))
	}
	return nil
}

func fsync(w *bufio.Writer, dir string, n int) error {
	path := filepath.Join(dir, "slowprobe-fsync")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, 4096)
	// The block exists and its size is fixed before timing, so each
	// fdatasync below is a data write and a flush, no metadata.
	if _, err := f.WriteAt(buf, 0); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	for i := range n {
		buf[0], buf[1] = byte(i), byte(i>>8)
		start := time.Now()
		if _, err := f.WriteAt(buf, 0); err != nil {
			return err
		}
		if err := unix.Fdatasync(int(f.Fd())); err != nil {
			return fmt.Errorf("fdatasync: %w", err)
		}
		fmt.Fprintf(w, "s %d\n", time.Since(start))
	}
	return nil
}

func commit(w *bufio.Writer, dir string, n int) error {
	d, err := os.MkdirTemp(dir, "slowprobe-commit")
	if err != nil {
		return err
	}
	defer os.RemoveAll(d)
	st, err := store.Open(d, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	j, err := journal.Open(st, journal.Options{})
	if err != nil {
		return err
	}
	defer j.Close()
	before := writes(st)
	for i := range n {
		p := journal.Punch{Employee: fmt.Sprintf("E%06d", i%100), Name: fmt.Sprintf("W%06d", i%100),
			Kind: journal.KindIn, Time: time.Now(), TZ: "UTC"}
		start := time.Now()
		if _, err := j.Append(p); err != nil {
			return fmt.Errorf("append %d: %w", i, err)
		}
		fmt.Fprintf(w, "s %d\n", time.Since(start))
	}
	if n > 0 {
		fmt.Fprintf(w, "writes %.2f\n", float64(writes(st)-before)/float64(n))
	}
	return nil
}

// writes is how many page writes bbolt has counted in the store's commits.
func writes(st *store.Store) int64 {
	ts := st.DB().Stats().TxStats
	return ts.GetWrite()
}

// phasePages is the size of the phases probe's file in 4 KiB pages.
const phasePages = 256

func phases(w *bufio.Writer, dir string, n, pages int) error {
	if pages < 1 || pages > phasePages-2 {
		return fmt.Errorf("-pages must be 1 to %d", phasePages-2)
	}
	path := filepath.Join(dir, "slowprobe-phases")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, 4096)
	// Every block allocated and on disk before timing, as a bbolt file's
	// pages are: each fdatasync below is data writes and a flush.
	if _, err := f.WriteAt(make([]byte, phasePages*4096), 0); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	fd := int(f.Fd())
	for i := range n {
		buf[0], buf[1] = byte(i), byte(i>>8)
		start := time.Now()
		for k := range pages {
			// Scattered over the pages after the two meta pages, as a
			// commit's copy-on-write pages land wherever the freelist says.
			pg := 2 + ((i*pages+k)*37)%(phasePages-2)
			if _, err := f.WriteAt(buf, int64(pg)*4096); err != nil {
				return err
			}
		}
		if err := unix.Fdatasync(fd); err != nil {
			return fmt.Errorf("fdatasync: %w", err)
		}
		mid := time.Now()
		if _, err := f.WriteAt(buf, int64(i%2)*4096); err != nil {
			return err
		}
		if err := unix.Fdatasync(fd); err != nil {
			return fmt.Errorf("fdatasync: %w", err)
		}
		end := time.Now()
		fmt.Fprintf(w, "d %d\nm %d\ns %d\n", mid.Sub(start), end.Sub(mid), end.Sub(start))
	}
	return nil
}
