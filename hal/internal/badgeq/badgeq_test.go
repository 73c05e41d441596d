package badgeq

import (
	"context"
	"errors"
	"testing"

	"timeclock/hal"
)

func TestQueue(t *testing.T) {
	q := New(1)
	halted := make(chan struct{})
	q.Put(hal.BadgeEvent{Number: "1"}, nil)
	q.Put(hal.BadgeEvent{Number: "2"}, nil) // full: dropped, never blocks
	ev, err := q.Next(context.Background(), halted)
	if err != nil || ev.Number != "1" {
		t.Fatalf("Next = %v, %v; want badge 1", ev, err)
	}
	bad := errors.New("parity")
	q.Put(hal.BadgeEvent{}, bad)
	if _, err := q.Next(context.Background(), halted); err != bad {
		t.Fatalf("Next = %v; want the frame's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Next(ctx, halted); err != context.Canceled {
		t.Fatalf("Next on a done ctx = %v", err)
	}
	q.Put(hal.BadgeEvent{Number: "3"}, nil)
	close(halted)
	if _, err := q.Next(context.Background(), halted); err != hal.ErrHalted {
		t.Fatalf("Next after halt = %v; want ErrHalted even with a read queued", err)
	}
}
