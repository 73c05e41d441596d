package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/tmuxtest"
)

// TestTUIHelper is not a test: TestTUIInTmux runs the test binary in a tmux
// pane with TIMECLOCK_TUI_HELPER=1, and this becomes a small clock whose
// display echoes the last key and badge the keypad and reader received.
func TestTUIHelper(t *testing.T) {
	if os.Getenv("TIMECLOCK_TUI_HELPER") != "1" {
		t.Skip("helper process for TestTUIInTmux")
	}
	b, err := New(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			ev, err := b.Keypad().ReadKey(ctx)
			if err != nil {
				return
			}
			b.Display().Show([]string{"key: " + ev.Key.String()})
		}
	}()
	go func() {
		for {
			ev, err := b.BadgeReader().ReadBadge(ctx)
			if err != nil {
				return
			}
			b.Display().Show([]string{"badge: " + ev.Number})
		}
	}()
	b.Display().Show([]string{"ready"})
	err = b.RunTUI(ctx, os.Stdin)
	cancel()
	if !errors.Is(err, ErrQuit) {
		fmt.Fprintln(os.Stderr, "RunTUI:", err)
		os.Exit(4)
	}
	os.Exit(0)
}

func TestTUIInTmux(t *testing.T) {
	dir := t.TempDir()
	before, after := filepath.Join(dir, "before"), filepath.Join(dir, "after")
	cmd := fmt.Sprintf("stty -g > %s; %s -test.run='^TestTUIHelper$'; echo \"exit=$?\"; stty -g > %s",
		before, os.Args[0], after)
	s := tmuxtest.Start(t, []string{"TIMECLOCK_TUI_HELPER=1"}, cmd)

	scr := s.WaitFor("ready", 10*time.Second)
	for _, want := range []string{"timeclock simulator", "┌", "○ green", "○ red", "Ctrl-C = quit"} {
		if !strings.Contains(scr, want) {
			t.Errorf("clock face lacks %q:\n%s", want, scr)
		}
	}
	for _, tc := range []struct {
		keys []string
		want string
	}{
		{[]string{"5"}, "key: 5"},
		{[]string{"#"}, "key: #"},
		{[]string{"Enter"}, "key: enter"},
		{[]string{"BSpace"}, "key: clear"},
		{[]string{"F1"}, "key: f1"},
		{[]string{"F4"}, "key: f4"},
		{[]string{"Up"}, "key: up"},
		{[]string{"Down"}, "key: down"},
		{[]string{"b", "4", "2", "7", "Enter"}, "badge: 427"},
	} {
		s.Keys(tc.keys...)
		s.WaitFor(tc.want, 5*time.Second)
	}
	s.Keys("C-c")
	await.True(t, 10*time.Second, s.Dead, "Ctrl-C did not end the TUI")
	scr = s.History()
	if !strings.Contains(scr, "exit=0") {
		t.Fatalf("TUI did not exit cleanly:\n%s", scr)
	}
	if strings.Contains(scr, "timeclock simulator") {
		t.Errorf("clock face still on screen after exit (alternate screen not left):\n%s", scr)
	}
	b1, _ := os.ReadFile(before)
	b2, _ := os.ReadFile(after)
	if len(b1) == 0 || string(b1) != string(b2) {
		t.Errorf("terminal not restored: stty before %q, after %q", b1, b2)
	}
}
