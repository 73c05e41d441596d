package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"timeclock/onboarding/netcheck"
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
	if err := a.IdentityStore().Erase(); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	a.ob.mu.Lock()
	a.ob.id = nil
	a.ob.mu.Unlock()
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
	target, err := a.cloudTarget()
	if err != nil {
		return err
	}
	rep := a.checker(target).Run(ctx)
	WriteNetReport(out, rep)
	return nil
}

// WriteNetReport writes a network check report as text: the interface, a
// line per step, and the advice for the first problem.
func WriteNetReport(w io.Writer, rep netcheck.Report) {
	iface := rep.Iface
	if iface == "" {
		iface = "none"
	}
	fmt.Fprintf(w, "interface: %s\n", iface)
	for _, s := range rep.Steps {
		fmt.Fprintf(w, "%s: %s", s.Step, s.Outcome)
		if s.Detail != "" {
			fmt.Fprintf(w, " (%s)", s.Detail)
		}
		fmt.Fprintln(w)
	}
	if rep.LANAdvice {
		a := netcheck.LANAdvice(rep.Iface)
		fmt.Fprintf(w, "advice: %s: %s\n", a.Title, strings.Join(a.Text, " "))
	}
	if a, ok := rep.Advice(); ok {
		fmt.Fprintf(w, "problem: %s: %s\n", a.Title, strings.Join(a.Text, " "))
	} else {
		fmt.Fprintln(w, "result: the network is fine for the cloud")
	}
}
