package haltest

import (
	"context"
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
	blockingReads(t, "ReadKey", func(t *testing.T) (func(context.Context) error, func() error) {
		h := start(t)
		return func(ctx context.Context) error { _, err := h.Dev.ReadKey(ctx); return err }, h.Dev.Halt
	})
}
