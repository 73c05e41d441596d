package agent

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
)

// script is a device that answers its reads from a list, then blocks until
// halted.
type script struct {
	mu     sync.Mutex
	errs   []error // one per read, before the event
	ev     hal.BadgeEvent
	halted chan struct{}
}

func (s *script) String() string { return "script" }
func (s *script) Halt() error    { close(s.halted); return nil }
func (s *script) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	s.mu.Lock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		s.mu.Unlock()
		return hal.BadgeEvent{}, err
	}
	ev := s.ev
	s.ev = hal.BadgeEvent{}
	s.mu.Unlock()
	if ev.Number != "" {
		return ev, nil
	}
	select {
	case <-ctx.Done():
		return hal.BadgeEvent{}, ctx.Err()
	case <-s.halted:
		return hal.BadgeEvent{}, hal.ErrHalted
	}
}

// scriptKeys is a keypad that blocks until halted.
type scriptKeys struct{ halted chan struct{} }

func (k scriptKeys) String() string { return "scriptKeys" }
func (k scriptKeys) Halt() error    { close(k.halted); return nil }
func (k scriptKeys) ReadKey(ctx context.Context) (hal.KeyEvent, error) {
	select {
	case <-ctx.Done():
		return hal.KeyEvent{}, ctx.Err()
	case <-k.halted:
		return hal.KeyEvent{}, hal.ErrHalted
	}
}

// A failing reader is retried after a growing pause; a bad frame is read on
// at once; a halted device ends its reader.
func TestReadersRetryAndStopWhenHalted(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	logs := &syncbuf.Buffer{}
	bad := errors.Join(errors.New("parity"), hal.ErrBadFrame)
	r := &script{errs: []error{bad, errors.New("unplugged"), errors.New("unplugged")},
		ev: hal.BadgeEvent{Number: "10002"}, halted: make(chan struct{})}
	kp := scriptKeys{halted: make(chan struct{})}
	var wg sync.WaitGroup
	in := startInput(context.Background(), &wg, kp, []hal.BadgeReader{r}, clk, slog.New(slog.NewTextHandler(logs, nil)))

	await.True(t, 5*time.Second, func() bool { return clk.Timers() == 1 }, "no retry pause after the first error; log:\n%s", logs)
	clk.Advance(99 * time.Millisecond)
	select {
	case ev := <-in.Badges:
		t.Fatalf("read %v before the first pause (100ms) was over", ev)
	default:
	}
	clk.Advance(time.Millisecond)
	// The second pause is twice the first.
	await.True(t, 5*time.Second, func() bool { return strings.Count(logs.String(), "input device error") == 2 }, "second error not logged")
	await.True(t, 5*time.Second, func() bool { return clk.Timers() == 1 }, "no second retry pause")
	clk.Advance(199 * time.Millisecond)
	select {
	case ev := <-in.Badges:
		t.Fatalf("read %v before the second pause (200ms) was over", ev)
	default:
	}
	clk.Advance(time.Millisecond)
	select {
	case ev := <-in.Badges:
		if ev.Number != "10002" {
			t.Fatalf("badge %q", ev.Number)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no badge after the pauses; log:\n%s", logs)
	}
	if n := strings.Count(logs.String(), "badge frame rejected"); n != 1 {
		t.Errorf("%d bad frames logged, want 1", n)
	}
	if !strings.Contains(logs.String(), "retry_in=200ms") {
		t.Errorf("the pause did not grow; log:\n%s", logs)
	}

	r.Halt()
	kp.Halt()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("readers still running after their devices were halted")
	}
}
