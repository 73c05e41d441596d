package haltest

import (
	"context"
	"errors"
	"testing"

	"timeclock/hal"
)

// blockingReads checks the rules of a blocking read (ReadKey, ReadBadge):
// it honours its context, and Halt ends it and every later one with
// hal.ErrHalted. start makes a fresh device and returns its read and Halt.
func blockingReads(t *testing.T, name string, start func(t *testing.T) (read func(context.Context) error, halt func() error)) {
	t.Run("CanceledContext", func(t *testing.T) {
		read, _ := start(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := read(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s(canceled) = %v, want context.Canceled", name, err)
		}
	})
	t.Run("CancelWhileBlocked", func(t *testing.T) {
		read, _ := start(t)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- read(ctx) }()
		cancel()
		if err := recvErr(t, errc); !errors.Is(err, context.Canceled) {
			t.Fatalf("%s after cancel = %v, want context.Canceled", name, err)
		}
	})
	t.Run("HaltUnblocksRead", func(t *testing.T) {
		read, halt := start(t)
		errc := make(chan error, 1)
		go func() { errc <- read(context.Background()) }()
		if err := halt(); err != nil {
			t.Fatalf("Halt: %v", err)
		}
		if err := recvErr(t, errc); !errors.Is(err, hal.ErrHalted) {
			t.Fatalf("%s after Halt = %v, want hal.ErrHalted", name, err)
		}
	})
	t.Run("ReadAfterHalt", func(t *testing.T) {
		read, halt := start(t)
		halt()
		if err := read(context.Background()); !errors.Is(err, hal.ErrHalted) {
			t.Fatalf("%s on a halted device = %v, want hal.ErrHalted", name, err)
		}
	})
	t.Run("HaltTwice", func(t *testing.T) {
		_, halt := start(t)
		if err := halt(); err != nil {
			t.Fatalf("first Halt: %v", err)
		}
		if err := halt(); err != nil {
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
