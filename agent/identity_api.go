package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// This file is what the console and the sync ask of onboarding's side of
// the agent: the technician passcode's hash, the network check on demand,
// and forgetting the identity.

// PasscodeHash is the technician passcode's hash kept with the identity
// (bcrypt, as agent/console/passcode checks it); "" before onboarding.
func (a *Agent) PasscodeHash() (string, error) {
	if id := a.Identity(); id != nil {
		return id.PasscodeHash, nil
	}
	return "", nil
}

// EraseIdentity forgets the clock's identity: its files (key, certificate,
// CA, manifest) and the copy in memory. The sync calls it when the cloud
// disables the clock; the next start onboards again.
func (a *Agent) EraseIdentity() error {
	if err := a.ids.Erase(); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	a.log.Warn("identity erased: the clock is no longer onboarded")
	return nil
}

// NetCheck runs the network check against the configured cloud and writes
// one line per step, then the advice for the first problem (the console's
// netcheck). It returns an error only when there is nothing to check.
func (a *Agent) NetCheck(ctx context.Context, out io.Writer) error {
	if a.cfg.CloudURL == "" {
		return errors.New("no cloud configured (--cloud): nothing to check against")
	}
	if err := a.setup().NetCheck(ctx, out); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}
