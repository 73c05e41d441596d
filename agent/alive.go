package agent

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotResponding is Alive's answer when a loop of the clock did not
// answer its probe in time; the error names the loop.
var ErrNotResponding = errors.New("agent: not responding")

// Alive reports whether the clock's loops are responsive, for the systemd
// watchdog: the mode loop (the punch loop, or onboarding before it), which
// also draws every screen, so a display write that hangs holds it; and the
// journal's writer, which a hung commit holds. Each must take a probe
// before ctx ends. A loop that is busy longer than ctx allows, or has not
// started yet, counts as not responding.
//
// The first nil answer after Run starts means the clock shows its first
// real screen (idle, disabled or onboarding) and waits for input: the mode
// loops take a probe only from their select, after drawing.
func (a *Agent) Alive(ctx context.Context) error {
	p := make(chan struct{})
	select {
	case a.probes <- p:
	case <-ctx.Done():
		return fmt.Errorf("%w: the punch loop (or onboarding) and its display: %w", ErrNotResponding, ctx.Err())
	}
	<-p // closed as it is taken
	j := a.journal.Load()
	if j == nil && a.storageDown.Load() {
		return nil // the screen says "Storage ERROR" and the clock retries: a restart would not help
	}
	if j == nil {
		return fmt.Errorf("%w: the journal is not open", ErrNotResponding)
	}
	if err := j.Probe(ctx); err != nil {
		return fmt.Errorf("%w: the journal writer: %w", ErrNotResponding, err)
	}
	return nil
}
