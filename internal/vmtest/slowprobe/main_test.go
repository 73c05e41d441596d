package main

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSim answers the control socket as the agent does for a roster where
// every badge is accepted, except that the accepted screen for badge
// 1000000+never never shows.
func fakeSim(t *testing.T, never int) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "sim.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewScanner(c)
		punches, last := 0, -1
		for r.Scan() {
			f := strings.Fields(r.Text())
			switch {
			case len(f) == 2 && f[0] == "badge":
				fmt.Sscanf(f[1], "%d", &last)
				last -= 1_000_000
				punches++
				fmt.Fprintln(c, `{"ok":true}`)
			case len(f) == 3 && f[0] == "wait" && f[2] == fmt.Sprintf("W%06d", last) && last != never:
				fmt.Fprintf(c, `{"ok":true,"lines":["%s"]}`+"\n", f[2])
			case f[0] == "wait":
				fmt.Fprintln(c, `{"ok":false,"error":"timeout"}`)
			case f[0] == "screen":
				fmt.Fprintln(c, `{"ok":true,"lines":["Badge or PIN"]}`)
			case f[0] == "status":
				fmt.Fprintf(c, `{"ok":true,"pending":%d}`+"\n", punches)
			default:
				fmt.Fprintln(c, `{"ok":false,"error":"unknown"}`)
			}
		}
	}()
	return sock
}

func TestPunch(t *testing.T) {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	if err := punch(w, fakeSim(t, -1), 5, 3); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	out := sb.String()
	if got := strings.Count("\n"+out, "\ns "); got != 5 {
		t.Errorf("%d sample lines, want 5:\n%s", got, out)
	}
	if !strings.HasSuffix(out, "pending 5\n") {
		t.Errorf("output does not end with the agent's pending count:\n%s", out)
	}
}

func TestPunchNoScreen(t *testing.T) {
	w := bufio.NewWriter(new(strings.Builder))
	err := punch(w, fakeSim(t, 1), 5, 3)
	if err == nil || !strings.Contains(err.Error(), "punch 1: no accepted screen") {
		t.Fatalf("got %v, want punch 1 without its accepted screen", err)
	}
}

func TestFsyncAndCommit(t *testing.T) {
	phases4 := func(w *bufio.Writer, dir string, n int) error { return phases(w, dir, n, 4) }
	for name, f := range map[string]func(*bufio.Writer, string, int) error{"fsync": fsync, "commit": commit, "phases": phases4} {
		var sb strings.Builder
		w := bufio.NewWriter(&sb)
		dir := t.TempDir()
		if err := f(w, dir, 4); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w.Flush()
		if n := strings.Count("\n"+sb.String(), "\ns "); n != 4 {
			t.Errorf("%s: %d samples, want 4:\n%s", name, n, sb.String())
		}
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
			t.Errorf("%s left %v behind", name, left)
		}
	}
}

func TestRTT(t *testing.T) {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	if err := rtt(w, fakeSim(t, -1), 3); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	if got := strings.Count("\n"+sb.String(), "\ns "); got != 3 {
		t.Errorf("%d sample lines, want 3:\n%s", got, sb.String())
	}
}

func TestCommitCountsWrites(t *testing.T) {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	if err := commit(w, t.TempDir(), 3); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	var writes float64
	for l := range strings.Lines(sb.String()) {
		fmt.Sscanf(l, "writes %g", &writes)
	}
	// At least one data page and the meta page per commit.
	if writes < 2 {
		t.Fatalf("writes per commit %v, want >= 2:\n%s", writes, sb.String())
	}
}

func TestPhases(t *testing.T) {
	var sb strings.Builder
	w := bufio.NewWriter(&sb)
	if err := phases(w, t.TempDir(), 3, 5); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	out := "\n" + sb.String()
	for _, p := range []string{"\nd ", "\nm ", "\ns "} {
		if got := strings.Count(out, p); got != 3 {
			t.Errorf("%d %q lines, want 3:%s", got, p[1:], out)
		}
	}
	if err := phases(w, t.TempDir(), 1, phasePages); err == nil {
		t.Error("phases accepted more pages than its file has")
	}
}
