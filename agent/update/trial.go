package update

import (
	"context"
	"fmt"
	"time"

	"timeclock/wire"
)

// trial runs a new version on trial: once the journal is open and the
// punch loop answers, it reports "committed"; the cloud's acknowledgement
// commits. At the deadline it asks BootCheck to roll back and restarts.
func (u *Updater) trial(ctx context.Context, s State, slot string) error {
	log := u.log.With("release", s.Release, "version", s.Version)
	left := s.Deadline.Sub(u.d.Clock.Now())
	if s.Deadline.IsZero() || left > u.cfg.Trial {
		left = u.cfg.Trial // a wall clock set back must not stretch the trial
	}
	log.Info("on trial: commits once the punch loop runs and the cloud acknowledges", "deadline_in", left.Round(time.Second).String(), "start", s.TrialStarts)
	deadline := u.d.Clock.NewTimer(left)
	defer deadline.Stop()
	retry := u.d.Clock.NewTimer(0)
	defer retry.Stop()
	lastErr := "the cloud was not reached"
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-deadline.C():
			return u.giveUp(ctx, s, fmt.Sprintf("version %s did not commit within %s: %s", s.Version, u.cfg.Trial, lastErr))
		case <-retry.C():
		}
		if err := u.d.Healthy(ctx); err != nil {
			lastErr = "the clock was not healthy: " + err.Error()
			retry.Reset(time.Second)
			continue
		}
		r := wire.UpdateReport{Version: u.cfg.Version, Arch: u.arch, Model: u.cfg.Model, Slot: slot, Release: s.Release, State: wire.UpdateCommitted}
		reply, err := u.post(ctx, r)
		if err != nil || !reply.Stored {
			if err != nil {
				lastErr = "the cloud did not acknowledge the commit: " + err.Error()
			}
			retry.Reset(min(u.cfg.Retry, 5*time.Second))
			continue
		}
		now := u.d.Clock.Now()
		s.Phase, s.Reason, s.Reported, s.Changed, s.Committed = wire.UpdateCommitted, "", true, now, now
		s.Floor, s.TrialFloor, s.Percent = s.TrialFloor, "", 0
		if err := SaveState(u.cfg.StateDir, s); err != nil {
			// The cloud counts it committed; the next start retries the
			// commit and BootCheck counts that start.
			log.Error("commit not stored", "err", err)
			return nil
		}
		log.Info("update committed", "slot", slot, "from", s.From, "switch_to_commit", now.Sub(s.Switched).Round(time.Millisecond).String())
		return u.Run(ctx)
	}
}

// giveUp asks BootCheck to roll back, stops the punch loop when it is
// idle, and restarts.
func (u *Updater) giveUp(ctx context.Context, s State, why string) error {
	u.log.Error("update trial failed: rolling back", "release", s.Release, "version", s.Version, "reason", why)
	s.Phase, s.Reason, s.Changed = PhaseRollback, why, u.d.Clock.Now()
	if err := SaveState(u.cfg.StateDir, s); err != nil {
		u.log.Error("update state", "err", err)
	}
	for u.d.Quiesce() != nil {
		if !u.sleep(ctx, time.Second) {
			return nil // stopping anyway: BootCheck rolls back at the next start
		}
	}
	return ErrRestart
}

// sleep waits d; false when ctx ended first.
func (u *Updater) sleep(ctx context.Context, d time.Duration) bool {
	t := u.d.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}
