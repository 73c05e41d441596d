package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/daemontest"
)

func TestMain(m *testing.M) {
	if sock := os.Getenv(floorSockEnv); sock != "" {
		// This binary started as BenchmarkSerialFloor's server.
		if err := serveFloor(sock, os.Getenv(floorDirEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestVersion(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "timeclockd ") {
		t.Fatalf("--version: %v %q", err, out)
	}
}

func TestUnknownBoardListsBoards(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	out, err := exec.Command(bin, "--board", "nosuch", "--state-dir", t.TempDir()).CombinedOutput()
	if exitCode(err) == 0 {
		t.Fatalf("--board nosuch exited 0:\n%s", out)
	}
	for _, b := range []string{`"nosuch"`, "BN5000", "JR2500", "rpi-devkit", "sim"} {
		if !strings.Contains(string(out), b) {
			t.Errorf("message lacks %s:\n%s", b, out)
		}
	}
}

func TestBadFlagsAndConfig(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	badCfg := filepath.Join(dir, "bad.json")
	os.WriteFile(badCfg, []byte(`{"timezone": "Mars/Base", "colour": 1}`), 0o600)
	bothClocks := filepath.Join(dir, "both-clocks.json")
	os.WriteFile(bothClocks, []byte(`{"sim_system_clock": true, "sim_clock_offset": "-1h"}`), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--no-such-flag"}, 2, "no-such-flag"},
		{[]string{"extra-arg"}, 2, "unexpected argument"},
		{[]string{"--config", filepath.Join(dir, "missing.json")}, 1, "missing.json"},
		{[]string{"--config", badCfg}, 1, "colour"},
		{[]string{"--config", bothClocks, "--state-dir", dir}, 1, "sim_system_clock"},
		{[]string{"--cloud", "http://insecure.example", "--state-dir", dir}, 1, "https"},
		{[]string{"--log-level", "loud", "--state-dir", dir}, 2, "log-level"},
	} {
		out, err := exec.Command(bin, tc.args...).CombinedOutput()
		if exitCode(err) != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d mentioning %q", tc.args, exitCode(err), out, tc.code, tc.want)
		}
	}
}

func TestHeadlessSimRunsAndStopsCleanly(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "ctl.sock")
	p := daemontest.Start(t, bin, "--board", "sim", "--state-dir", dir, "--sim-socket", sock)
	s := daemontest.DialSim(t, sock, 10*time.Second)
	s.WaitScreen("Badge or PIN", 10*time.Second)
	st := s.OK("status")
	for k, want := range map[string]any{"state": "idle", "model": "sim", "cloud": "standalone"} {
		if st[k] != want {
			t.Errorf("status %s = %v, want %v", k, st[k], want)
		}
	}
	for _, k := range []string{"pending", "synced", "network"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status lacks %s: %v", k, st)
		}
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.Output())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("control socket left behind: %v", err)
	}
	if !strings.Contains(p.Output(), "stopped") {
		t.Errorf("no clean-stop log line:\n%s", p.Output())
	}
}

func TestSecondClockOnSameSocketRefused(t *testing.T) {
	bin := daemontest.Build(t, "timeclock/cmd/timeclockd")
	dir := t.TempDir()
	sock := filepath.Join(dir, "ctl.sock")
	daemontest.Start(t, bin, "--state-dir", dir, "--sim-socket", sock)
	daemontest.DialSim(t, sock, 10*time.Second)
	p2 := daemontest.Start(t, bin, "--state-dir", t.TempDir(), "--sim-socket", sock)
	err := p2.Wait(t, 10*time.Second)
	if exitCode(err) == 0 || !strings.Contains(p2.Output(), "another clock") {
		t.Fatalf("second clock on a live socket: %v\n%s", err, p2.Output())
	}
	await.True(t, time.Second, func() bool { _, err := os.Stat(sock); return err == nil }, "first clock's socket removed")
}

// TestLimitMemory: the config's limit becomes the runtime's soft memory
// limit, unless it is 0 or GOMEMLIMIT is set (the environment wins).
func TestLimitMemory(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	noEnv := func(string) string { return "" }
	withEnv := func(k string) string {
		if k == "GOMEMLIMIT" {
			return "64MiB"
		}
		return ""
	}
	if got := limitMemory(0, noEnv); got != 0 || debug.SetMemoryLimit(-1) != before {
		t.Fatalf("0 MiB: set %d, runtime limit %d (was %d)", got, debug.SetMemoryLimit(-1), before)
	}
	if got := limitMemory(12, withEnv); got != 0 || debug.SetMemoryLimit(-1) != before {
		t.Fatalf("with GOMEMLIMIT: set %d, runtime limit %d (was %d)", got, debug.SetMemoryLimit(-1), before)
	}
	if got := limitMemory(12, noEnv); got != 12<<20 || debug.SetMemoryLimit(-1) != 12<<20 {
		t.Fatalf("12 MiB: set %d, runtime limit %d", got, debug.SetMemoryLimit(-1))
	}
}
