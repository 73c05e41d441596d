package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/internal/daemontest"
)

// The floor server's environment: its control socket and state directory.
// TestMain runs it instead of the tests when the socket is set.
const (
	floorSockEnv = "TIMECLOCK_SERIAL_FLOOR_SOCK"
	floorDirEnv  = "TIMECLOCK_SERIAL_FLOOR_DIR"
)

// BenchmarkSerialFloor is BenchmarkSerialPunches with the same client
// against a server that does nothing but the one journal append per
// badge: another process (this test binary) answering "badge N" at once
// and "wait MS TEXT" once the append is durable, as the sim socket does.
// Its punch-p50-ms minus commit-p50-ms is what the socket client and the
// process boundary cost before the daemon does any work, the floor under
// BenchmarkSerialPunches's ratio on this machine (informational rows in
// make bench's table).
func BenchmarkSerialFloor(b *testing.B) {
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		b.Skip("runs on the build host, not under qemu")
	}
	dir := b.TempDir()
	sock := filepath.Join(dir, "floor.sock")
	p := daemontest.StartEnv(b, os.Args[0], []string{floorSockEnv + "=" + sock, floorDirEnv + "=" + dir}, "-test.run", "^$")
	clk := &punchClock{p: p, s: daemontest.DialSim(b, sock, 20*time.Second)}
	clk.s.WaitScreen("Badge or PIN", 20*time.Second)
	serialVsCommits(b, clk.punch)
}

// serveFloor is the floor server: it takes one connection on sock and
// answers until it closes. Badges are recorded one after another on
// another goroutine (as the clock's punch loop does), each one append
// to a journal in dir; the "screen" is then the worker's name.
func serveFloor(sock, dir string) error {
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	j, err := journal.Open(st, journal.Options{Capacity: 10_000_000})
	if err != nil {
		return err
	}
	defer j.Close()
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	defer ln.Close()

	var mu sync.Mutex
	screen := "Badge or PIN" // guarded by mu
	changed := make(chan struct{}, 1)
	badges := make(chan int, 64)
	failed := make(chan error, 1)
	go func() {
		t0 := time.Now().UTC()
		for n := 0; ; n++ {
			w := <-badges
			p := journal.Punch{Employee: fmt.Sprintf("E%06d", w), Name: workerName(w), Kind: journal.KindIn, Time: t0.Add(time.Duration(n) * time.Second), TZ: "UTC", ClockSet: true}
			if _, err := j.Append(p); err != nil {
				failed <- err
				return
			}
			mu.Lock()
			screen = workerName(w)
			mu.Unlock()
			select {
			case changed <- struct{}{}:
			default:
			}
		}
	}()

	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	enc := json.NewEncoder(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil // the client is gone
		}
		f := strings.SplitN(strings.TrimSpace(line), " ", 3) // wait MS TEXT: the text may have spaces
		switch {
		case len(f) == 2 && f[0] == "badge":
			w, err := strconv.Atoi(f[1])
			if err != nil || w < 1_000_000 {
				return fmt.Errorf("floor: bad badge %q", line)
			}
			badges <- w - 1_000_000
			err = enc.Encode(map[string]any{"ok": true})
			if err != nil {
				return err
			}
		case len(f) == 3 && f[0] == "wait":
			for {
				mu.Lock()
				s := screen
				mu.Unlock()
				if strings.Contains(s, f[2]) {
					if err := enc.Encode(map[string]any{"ok": true, "lines": []string{s, "", "", ""}}); err != nil {
						return err
					}
					break
				}
				select {
				case <-changed:
				case err := <-failed:
					return err
				}
			}
		default:
			return fmt.Errorf("floor: unexpected command %q", line)
		}
	}
}
