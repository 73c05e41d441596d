// Package inputloop reads one input device of the clock until it is halted:
// the loop the agent and the out-of-service mode share.
package inputloop

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"timeclock/clock"
	"timeclock/hal"
)

// Run calls read until ctx is done or the device is halted: the loop
// every input device of the clock runs on its own goroutine. A garbled
// badge read (hal.ErrBadFrame: bad parity or checksum, a partial frame) is the
// card or the swipe, not the reader: it is logged and read past. Other
// errors (a reader unplugged, a bus glitch) are logged and retried after a
// pause that grows from 100 ms to 10 s and starts again after a good read.
func Run(ctx context.Context, clk clock.Clock, log *slog.Logger, d hal.Device, read func(context.Context) error) {
	const first, most = 100 * time.Millisecond, 10 * time.Second
	backoff := first
	for {
		err := read(ctx)
		switch {
		case err == nil:
			backoff = first
			continue
		case ctx.Err() != nil, errors.Is(err, hal.ErrHalted):
			return
		case errors.Is(err, hal.ErrBadFrame):
			log.Warn("badge frame rejected", "device", d.String(), "err", err)
			backoff = first
			continue
		}
		log.Warn("input device error", "device", d.String(), "err", err, "retry_in", backoff.String())
		t := clk.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		backoff = min(2*backoff, most)
	}
}
