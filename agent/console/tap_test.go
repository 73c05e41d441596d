package console

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"timeclock/hal"
	"timeclock/hal/sim"
)

const wait = 5 * time.Second

func recv[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within %v", what, wait)
	}
	var zero T
	return zero
}

// agentSide reads keys and badges through the wrappers, as the agent's
// read loops do.
func agentSide(t *testing.T, k hal.Keypad, r hal.BadgeReader) (<-chan hal.KeyEvent, <-chan hal.BadgeEvent) {
	ctx, cancel := context.WithCancel(context.Background())
	keys, badges := make(chan hal.KeyEvent, 8), make(chan hal.BadgeEvent, 8)
	done := make(chan struct{}, 2)
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			ev, err := k.ReadKey(ctx)
			if err != nil {
				return
			}
			keys <- ev
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		for {
			ev, err := r.ReadBadge(ctx)
			if err != nil {
				return
			}
			badges <- ev
		}
	}()
	t.Cleanup(func() { cancel(); <-done; <-done })
	return keys, badges
}

func TestBorrowDivertsInputAndRestoresOutput(t *testing.T) {
	b, err := sim.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Halt()
	tap := NewTap()
	kp, rd := tap.Keypad(b.Keypad()), tap.BadgeReader(b.BadgeReader())
	disp, ind := tap.Display(b.Display()), tap.Indicator(b.Indicator())
	if _, ok := disp.(hal.Backlight); !ok {
		t.Error("the wrapped sim display lost its backlight")
	}
	agentKeys, agentBadges := agentSide(t, kp, rd)

	disp.Show([]string{"Badge or PIN"})
	ind.SetLED(hal.LEDGreen, true)
	b.Press(hal.Key1)
	if ev := recv(t, agentKeys, "key for the agent"); ev.Key != hal.Key1 {
		t.Fatalf("agent got %v", ev.Key)
	}

	l, release, err := tap.Borrow()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tap.Borrow(); !errors.Is(err, errLent) {
		t.Fatalf("second Borrow: %v, want ErrBusy", err)
	}
	b.Press(hal.Key5)
	if ev := recv(t, l.Keys, "key for the borrower"); ev.Key != hal.Key5 {
		t.Fatalf("borrower got %v", ev.Key)
	}
	b.Swipe("10001")
	if ev := recv(t, l.Badges, "badge for the borrower"); ev.Number != "10001" {
		t.Fatalf("borrower got %v", ev)
	}
	// The agent carries on meanwhile; none of it reaches the devices.
	disp.Show([]string{"Welcome Ann"})
	ind.SetLED(hal.LEDGreen, false)
	ind.SetLED(hal.LEDRed, true)
	ind.Beep(context.Background(), hal.PatternError)
	l.Display.Show([]string{"####################"})
	l.Indicator.SetLED(hal.LEDGreen, true)
	if s := b.Screen(); s[0] != "####################" {
		t.Fatalf("screen while lent %q", s)
	}
	if li := b.Lights(); !li.Green || li.Red || li.Beeps != 0 {
		t.Fatalf("lights while lent %+v", li)
	}
	if n, ok := l.BadFrames(); ok || n != 0 {
		t.Errorf("BadFrames = %d, %v on a reader without a counter", n, ok)
	}

	release()
	release() // harmless
	if s := b.Screen(); s[0] != "Welcome Ann" {
		t.Fatalf("screen after release %q, want the agent's last screen", s)
	}
	if li := b.Lights(); li.Green || !li.Red {
		t.Fatalf("lights after release %+v, want the agent's", li)
	}
	b.Press(hal.Key7)
	if ev := recv(t, agentKeys, "key for the agent after release"); ev.Key != hal.Key7 {
		t.Fatalf("agent got %v", ev.Key)
	}
	b.Swipe("20002")
	if ev := recv(t, agentBadges, "badge for the agent after release"); ev.Number != "20002" {
		t.Fatalf("agent got %v", ev)
	}
	select {
	case ev := <-agentKeys:
		t.Fatalf("the agent saw the lent key press %v", ev.Key)
	default:
	}
	if _, release, err := tap.Borrow(); err != nil {
		t.Fatalf("Borrow after release: %v", err)
	} else {
		release()
	}
}

// A borrower that reads nothing never blocks the agent's read loop.
func TestSlowBorrowerNeverBlocks(t *testing.T) {
	b, _ := sim.New(&sim.Opts{Cols: 20, Rows: 4, Queue: 100})
	defer b.Halt()
	tap := NewTap()
	agentKeys, _ := agentSide(t, tap.Keypad(b.Keypad()), tap.BadgeReader(b.BadgeReader()))
	_, release, _ := tap.Borrow()
	for range 3 * lentQueue {
		if err := b.Press(hal.Key0); err != nil {
			t.Fatal(err)
		}
	}
	b.Press(hal.KeyEnter)
	release()
	// The wrapper drained all lent presses without blocking; the next one
	// reaches the agent.
	b.Press(hal.Key9)
	for {
		ev := recv(t, agentKeys, "key after a flood of lent keys")
		if ev.Key == hal.Key9 {
			break
		}
		if ev.Key == hal.Key0 {
			continue // pressed before release was noticed by the reader
		}
	}
}

type countingSim struct {
	hal.BadgeReader
	n uint64
}

func (c *countingSim) BadFrames() uint64 { return c.n }

func TestBadFramesSummed(t *testing.T) {
	b, _ := sim.New(nil)
	defer b.Halt()
	tap := NewTap()
	w := tap.BadgeReader(&countingSim{BadgeReader: b.BadgeReader(), n: 3})
	if fc, ok := w.(hal.FrameCounter); !ok || fc.BadFrames() != 3 {
		t.Fatal("wrapper hides the reader's frame counter")
	}
	tap.BadgeReader(&countingSim{BadgeReader: b.BadgeReader(), n: 4})
	l, release, _ := tap.Borrow()
	defer release()
	if n, ok := l.BadFrames(); !ok || n != 7 {
		t.Fatalf("BadFrames = %d, %v; want 7, true", n, ok)
	}
	if !strings.Contains(errLent.Error(), "lent") {
		t.Fatal(errLent)
	}
}
