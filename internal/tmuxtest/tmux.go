// Package tmuxtest drives a program in a real terminal, as a person at a
// keyboard would: it runs the program in a private tmux server, types keys
// with send-keys and reads the screen with capture-pane.
package tmuxtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/testenv"
)

// Session is one tmux session running one command in a 100x30 pane. The pane
// stays after the command exits so its last screen can be read.
type Session struct {
	t    testing.TB
	tmux string
	sock string
}

// Start runs argv (a shell command line) in a new private tmux server with
// the extra environment, and kills the server when the test ends.
func Start(t testing.TB, env []string, command string) *Session {
	t.Helper()
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("terminal test: runs on the build host, not under qemu")
	}
	s := &Session{t: t, tmux: testenv.Tool(t, "tmux"), sock: filepath.Join(t.TempDir(), "tmux.sock")}
	args := []string{"-S", s.sock, "-f", "/dev/null", "new-session", "-d", "-x", "100", "-y", "30"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, command)
	if out, err := exec.Command(s.tmux, args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v: %s", err, out)
	}
	s.run("set-option", "-g", "remain-on-exit", "on")
	t.Cleanup(func() { exec.Command(s.tmux, "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *Session) run(args ...string) string {
	s.t.Helper()
	out, err := exec.Command(s.tmux, append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Keys types keys; names are tmux's (Enter, BSpace, F1, Up, C-c) or literal text.
func (s *Session) Keys(keys ...string) {
	s.t.Helper()
	s.run(append([]string{"send-keys", "-t", "0"}, keys...)...)
}

// Literal types text exactly, without tmux's key-name lookup.
func (s *Session) Literal(text string) {
	s.t.Helper()
	s.run("send-keys", "-t", "0", "-l", text)
}

// Screen returns what the pane shows now.
func (s *Session) Screen() string {
	s.t.Helper()
	return s.run("capture-pane", "-p", "-t", "0")
}

// History returns the pane's scrollback and screen together.
func (s *Session) History() string {
	s.t.Helper()
	return s.run("capture-pane", "-p", "-t", "0", "-S", "-")
}

// WaitFor waits until the pane shows text and returns the screen.
func (s *Session) WaitFor(text string, timeout time.Duration) string {
	s.t.Helper()
	var scr string
	ok := false
	defer func() {
		if !ok {
			s.t.Logf("last screen:\n%s", scr)
		}
	}()
	await.True(s.t, timeout, func() bool {
		scr = s.Screen()
		return strings.Contains(scr, text)
	}, "pane never showed %q", text)
	ok = true
	return scr
}

// Dead reports whether the pane's command has exited.
func (s *Session) Dead() bool {
	s.t.Helper()
	return strings.TrimSpace(s.run("display-message", "-p", "-t", "0", "#{pane_dead}")) == "1"
}

// Kill ends the tmux server now, as closing the terminal would: the
// programs in its panes get SIGHUP.
func (s *Session) Kill() {
	s.t.Helper()
	exec.Command(s.tmux, "-S", s.sock, "kill-server").Run()
}
