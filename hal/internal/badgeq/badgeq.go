// Package badgeq is what the badge reader drivers share: a Queue that
// carries a reader's reads, good badges and rejected frames alike, from the
// driver's reading goroutine to ReadBadge, and a RepeatFilter that turns a
// card held over the reader into one read.
package badgeq

import (
	"context"

	"timeclock/hal"
)

type read struct {
	ev  hal.BadgeEvent
	err error
}

// Queue is a bounded queue of reads.
type Queue struct{ c chan read }

// New makes a queue holding up to n unread reads.
func New(n int) Queue { return Queue{c: make(chan read, max(n, 1))} }

// Put queues a badge, or a rejected frame's error. When nobody has read
// the queue empty, the read is dropped rather than block the reader's line.
func (q Queue) Put(ev hal.BadgeEvent, err error) {
	select {
	case q.c <- read{ev, err}:
	default:
	}
}

// Next is ReadBadge: the next read, ctx's error, or hal.ErrHalted once
// halted is closed (at once if it already is).
func (q Queue) Next(ctx context.Context, halted <-chan struct{}) (hal.BadgeEvent, error) {
	select {
	case <-halted:
		return hal.BadgeEvent{}, hal.ErrHalted
	default:
	}
	select {
	case r := <-q.c:
		return r.ev, r.err
	case <-ctx.Done():
		return hal.BadgeEvent{}, ctx.Err()
	case <-halted:
		return hal.BadgeEvent{}, hal.ErrHalted
	}
}
