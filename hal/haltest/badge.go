package haltest

import (
	"context"
	"errors"
	"testing"

	"timeclock/hal"
)

// BadgeHarness is one badge reader under test and the means to present
// cards to it.
type BadgeHarness struct {
	Dev hal.BadgeReader
	// Swipe presents card i (different i, different card) and returns the
	// event the reader must deliver: Format, Facility and Number are
	// compared.
	Swipe func(t testing.TB, i int) hal.BadgeEvent
	// Bad feeds the reader a frame it must reject; nil when the reader has
	// no such thing.
	Bad func(t testing.TB)
}

// BadgeReader checks the rules every hal.BadgeReader keeps. open makes a
// fresh device for each rule; the suite halts it.
func BadgeReader(t *testing.T, open func(t *testing.T) BadgeHarness) {
	start := func(t *testing.T) BadgeHarness {
		t.Helper()
		h := open(t)
		t.Cleanup(func() { h.Dev.Halt() })
		return h
	}
	read := func(t *testing.T, h BadgeHarness) (hal.BadgeEvent, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), Deadline)
		defer cancel()
		return h.Dev.ReadBadge(ctx)
	}
	check := func(t *testing.T, got, want hal.BadgeEvent) {
		t.Helper()
		if got.Format != want.Format || got.Facility != want.Facility || got.Number != want.Number {
			t.Fatalf("read %v (format %v, facility %d, number %q); want %v", got, got.Format, got.Facility, got.Number, want)
		}
		if got.Bits <= 0 || len(got.Raw) != (got.Bits+7)/8 {
			t.Fatalf("read %v: %d raw bytes for %d bits", got, len(got.Raw), got.Bits)
		}
		if got.Time.IsZero() {
			t.Fatalf("read %v has no time", got)
		}
	}

	t.Run("String", func(t *testing.T) {
		if h := start(t); h.Dev.String() == "" {
			t.Fatal("String() is empty")
		}
	})
	t.Run("SwipeThenRead", func(t *testing.T) {
		h := start(t)
		for i := range 3 {
			want := h.Swipe(t, i)
			got, err := read(t, h)
			if err != nil {
				t.Fatalf("ReadBadge after swipe %d: %v", i, err)
			}
			check(t, got, want)
		}
	})
	t.Run("UnreadBadgesQueueInOrder", func(t *testing.T) {
		h := start(t)
		var want []hal.BadgeEvent
		for i := range 3 {
			want = append(want, h.Swipe(t, 10+i))
		}
		for i, w := range want {
			got, err := read(t, h)
			if err != nil {
				t.Fatalf("ReadBadge #%d: %v", i, err)
			}
			check(t, got, w)
		}
	})
	t.Run("BadFrameIsNeverABadge", func(t *testing.T) {
		h := start(t)
		if h.Bad == nil {
			t.Skip("the reader has no bad frames")
		}
		h.Bad(t)
		want := h.Swipe(t, 20)
		_, err := read(t, h)
		if !errors.Is(err, hal.ErrBadFrame) {
			t.Fatalf("ReadBadge after a bad frame = %v, want an error wrapping hal.ErrBadFrame", err)
		}
		got, err := read(t, h)
		if err != nil {
			t.Fatalf("ReadBadge after the bad frame's error: %v", err)
		}
		check(t, got, want)
		if fc, ok := h.Dev.(hal.FrameCounter); ok && fc.BadFrames() != 1 {
			t.Fatalf("BadFrames() = %d, want 1", fc.BadFrames())
		}
	})
	blockingReads(t, "ReadBadge", func(t *testing.T) (func(context.Context) error, func() error) {
		h := start(t)
		return func(ctx context.Context) error { _, err := h.Dev.ReadBadge(ctx); return err }, h.Dev.Halt
	})
}
