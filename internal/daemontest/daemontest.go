// Package daemontest builds this module's commands and runs them as real
// processes for end-to-end tests, and talks to the sim board's control
// socket.
package daemontest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
)

var (
	buildMu  sync.Mutex
	builtDir string
	built    = map[string]string{}
)

// Build compiles a command of this module ("timeclock/cmd/timeclockd") once
// per test binary and returns the executable's path. Tests that need it are
// skipped where no Go toolchain can build for this machine (under qemu).
//
// TIMECLOCK_TIMECLOCKD names a timeclockd built already (make bench: the
// shipped build from scripts/cross.sh) to use instead of building one; with
// TIMECLOCK_DAEMON_EXEC (qemu-arm) it may be another architecture's, which
// Start runs under that emulator.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("end-to-end test: runs on the build host, not under qemu")
	}
	if bin := prebuilt(); bin != "" && pkg == "timeclock/cmd/timeclockd" {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("TIMECLOCK_TIMECLOCKD: %v", err)
		}
		return bin
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	if builtDir == "" {
		d, err := os.MkdirTemp("", "timeclock-e2e-")
		if err != nil {
			t.Fatal(err)
		}
		builtDir = d
	}
	out := filepath.Join(builtDir, filepath.Base(pkg))
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goBin, append(args, pkg)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

// prebuilt is TIMECLOCK_TIMECLOCKD as an absolute path ("" unset).
func prebuilt() string {
	bin := os.Getenv("TIMECLOCK_TIMECLOCKD")
	if bin == "" {
		return ""
	}
	if abs, err := filepath.Abs(bin); err == nil {
		return abs
	}
	return bin
}

// Cleanup removes the built binaries; call it from TestMain after m.Run.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
}

// Proc is a started command whose output is collected.
type Proc struct {
	Cmd  *exec.Cmd
	out  *syncbuf.Buffer
	done chan struct{}
	err  error
}

// Start runs bin with args, its stdin empty (headless), stdout and stderr
// collected; the process is killed when the test ends.
func Start(t testing.TB, bin string, args ...string) *Proc {
	t.Helper()
	return StartEnv(t, bin, nil, args...)
}

// StartEnv is Start with env ("KEY=value") added to this process's
// environment, as a service manager sets NOTIFY_SOCKET.
func StartEnv(t testing.TB, bin string, env []string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if emu := os.Getenv("TIMECLOCK_DAEMON_EXEC"); emu != "" && bin == prebuilt() {
		cmd = exec.Command(emu, append([]string{bin}, args...)...) // qemu-user: the PID is the emulated process's
	}
	p := &Proc{Cmd: cmd, out: &syncbuf.Buffer{}, done: make(chan struct{})}
	if env != nil {
		p.Cmd.Env = append(os.Environ(), env...)
	}
	p.Cmd.Stdout, p.Cmd.Stderr = p.out, p.out
	if err := p.Cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), p.Output())
		}
	})
	return p
}

// Output is everything the process wrote so far.
func (p *Proc) Output() string { return p.out.String() }

// Wait waits for the process to exit and returns its exit error.
func (p *Proc) Wait(t testing.TB, timeout time.Duration) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		t.Fatalf("process still running after %v", timeout)
		return nil
	}
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitOutput waits until the output contains text.
func (p *Proc) WaitOutput(t testing.TB, text string, timeout time.Duration) {
	t.Helper()
	await.True(t, timeout, func() bool { return strings.Contains(p.Output(), text) || p.Exited() },
		"output never showed %q", text)
	if !strings.Contains(p.Output(), text) {
		t.Fatalf("process exited (%v) before printing %q:\n%s", p.err, text, p.Output())
	}
}

// Sim is a client of the sim board's control socket.
type Sim struct {
	t  testing.TB
	cl *sim.Client
}

// DialSim connects to the control socket, waiting for it to appear.
func DialSim(t testing.TB, path string, timeout time.Duration) *Sim {
	t.Helper()
	c := await.Value(t, timeout, func() (net.Conn, bool) {
		c, err := net.Dial("unix", path)
		return c, err == nil
	}, "control socket %s never answered", path)
	t.Cleanup(func() { c.Close() })
	return &Sim{t: t, cl: sim.NewClient(c)}
}

// Do sends one command and returns the decoded reply.
func (s *Sim) Do(format string, args ...any) map[string]any {
	s.t.Helper()
	r, err := s.Try(format, args...)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// Try is Do returning the error instead of failing the test (for a clock
// that may be killed under the test's feet).
func (s *Sim) Try(format string, args ...any) (map[string]any, error) {
	return s.cl.Do(fmt.Sprintf(format, args...), 70*time.Second)
}

// OK sends a command that must succeed.
func (s *Sim) OK(format string, args ...any) map[string]any {
	s.t.Helper()
	r := s.Do(format, args...)
	if r["ok"] != true {
		s.t.Fatalf("sim %q failed: %v", fmt.Sprintf(format, args...), r)
	}
	return r
}

// Screen returns the display lines joined by newlines.
func (s *Sim) Screen() string {
	s.t.Helper()
	r := s.OK("screen")
	var lines []string
	for _, l := range r["lines"].([]any) {
		lines = append(lines, l.(string))
	}
	return strings.Join(lines, "\n")
}

// WaitScreen waits (server side) until a screen line contains text and
// returns the screen; it fails the test with the last screen otherwise.
func (s *Sim) WaitScreen(text string, timeout time.Duration) string {
	s.t.Helper()
	r := s.Do("wait %d %s", timeout.Milliseconds(), text)
	var lines []string
	if ls, ok := r["lines"].([]any); ok {
		for _, l := range ls {
			lines = append(lines, l.(string))
		}
	}
	scr := strings.Join(lines, "\n")
	if r["ok"] != true {
		s.t.Fatalf("screen never showed %q; it shows:\n%s", text, scr)
	}
	return scr
}

// SimConn is a client of a control socket on an open connection (one
// forwarded out of a virtual machine); the connection is closed when the
// test ends.
func SimConn(t testing.TB, c net.Conn) *Sim {
	t.Cleanup(func() { c.Close() })
	return &Sim{t: t, cl: sim.NewClient(c)}
}
