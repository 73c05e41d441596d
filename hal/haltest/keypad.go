package haltest

import (
	"context"
	"errors"
	"testing"

	"timeclock/hal"
)

// KeypadHarness is one keypad under test and the means to press its keys.
type KeypadHarness struct {
	Dev hal.Keypad
	// Press presses and releases k as a person would. It returns once the
	// device has seen what it needs; the key may still be unread.
	Press func(t testing.TB, k hal.Key)
	// Keys are the keys the device can produce (at least two).
	Keys []hal.Key
}

// Keypad checks the rules every hal.Keypad keeps. open makes a fresh device
// for each rule; the suite halts it.
func Keypad(t *testing.T, open func(t *testing.T) KeypadHarness) {
	start := func(t *testing.T) KeypadHarness {
		t.Helper()
		h := open(t)
		if len(h.Keys) < 2 {
			t.Fatalf("harness gives %d keys, want at least 2", len(h.Keys))
		}
		t.Cleanup(func() { h.Dev.Halt() })
		return h
	}
	read := func(t *testing.T, h KeypadHarness) hal.KeyEvent {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), Deadline)
		defer cancel()
		ev, err := h.Dev.ReadKey(ctx)
		if err != nil {
			t.Fatalf("ReadKey: %v", err)
		}
		return ev
	}

	t.Run("String", func(t *testing.T) {
		if h := start(t); h.Dev.String() == "" {
			t.Fatal("String() is empty")
		}
	})
	t.Run("EveryKeyReads", func(t *testing.T) {
		h := start(t)
		for _, k := range h.Keys {
			h.Press(t, k)
			ev := read(t, h)
			if ev.Key != k {
				t.Fatalf("pressed %v, read %v", k, ev.Key)
			}
			if ev.Time.IsZero() {
				t.Fatalf("key %v has no time", k)
			}
		}
	})
	t.Run("UnreadKeysQueueInOrder", func(t *testing.T) {
		h := start(t)
		want := []hal.Key{h.Keys[0], h.Keys[1], h.Keys[0], h.Keys[len(h.Keys)-1]}
		for _, k := range want {
			h.Press(t, k)
		}
		for i, k := range want {
			if ev := read(t, h); ev.Key != k {
				t.Fatalf("read #%d = %v, want %v (pressed %v)", i, ev.Key, k, want)
			}
		}
	})
	t.Run("CanceledContext", func(t *testing.T) {
		h := start(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := h.Dev.ReadKey(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadKey(canceled) = %v, want context.Canceled", err)
		}
	})
	t.Run("CancelWhileBlocked", func(t *testing.T) {
		h := start(t)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { _, err := h.Dev.ReadKey(ctx); errc <- err }()
		cancel()
		if err := recvErr(t, errc); !errors.Is(err, context.Canceled) {
			t.Fatalf("ReadKey after cancel = %v, want context.Canceled", err)
		}
	})
	t.Run("HaltUnblocksRead", func(t *testing.T) {
		h := start(t)
		errc := make(chan error, 1)
		go func() { _, err := h.Dev.ReadKey(context.Background()); errc <- err }()
		if err := h.Dev.Halt(); err != nil {
			t.Fatalf("Halt: %v", err)
		}
		if err := recvErr(t, errc); !errors.Is(err, hal.ErrHalted) {
			t.Fatalf("ReadKey after Halt = %v, want hal.ErrHalted", err)
		}
	})
	t.Run("ReadAfterHalt", func(t *testing.T) {
		h := start(t)
		h.Dev.Halt()
		if _, err := h.Dev.ReadKey(context.Background()); !errors.Is(err, hal.ErrHalted) {
			t.Fatalf("ReadKey on a halted keypad = %v, want hal.ErrHalted", err)
		}
	})
	t.Run("HaltTwice", func(t *testing.T) {
		h := start(t)
		if err := h.Dev.Halt(); err != nil {
			t.Fatalf("first Halt: %v", err)
		}
		if err := h.Dev.Halt(); err != nil {
			t.Fatalf("second Halt: %v", err)
		}
	})
}

// recvErr receives a blocked call's result, failing after Deadline.
func recvErr(t testing.TB, errc <-chan error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Deadline)
	defer cancel()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		t.Fatalf("call still blocked after %v", Deadline)
		return nil
	}
}
