package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"timeclock/hal"
	"timeclock/onboarding"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
)

// This file is the agent's side of onboarding: the config it takes, the
// onboarding mode that starts package onboarding, the identity it adopts,
// and what the console and the sync ask of it (the passcode's hash, the
// network check on demand, forgetting the identity). Package onboarding
// keeps the identity and runs onboarding.

// DefaultCloudPorts are the seed's four ports: HTTP 80, HTTPS 443, MQTT
// 59777, MQTT over WebSocket 59778.
var DefaultCloudPorts = netcheck.DefaultPorts

func (c Config) validateCloudPorts() error {
	if err := c.CloudPorts.Validate(); err != nil {
		return fmt.Errorf("cloud_ports: %w", err)
	}
	return nil
}

// Identity returns the clock's identity, nil before onboarding.
func (a *Agent) Identity() *identity.Identity { return a.ids.Identity() }

// IdentityStore is where the identity is kept (STATE_DIR/identity). The
// sync erases it when the clock is disabled; the console verifies the
// technician passcode with what it loads.
func (a *Agent) IdentityStore() *identity.Store { return a.ids.Store() }

// fillIdentity adds the identity and the onboarding step to the status.
func (a *Agent) fillIdentity(s *Status) {
	id, step := a.ids.Current()
	s.Onboarding = step
	if id == nil {
		return
	}
	s.DeviceID, s.Nickname, s.Timezone = id.DeviceID, id.Nickname, id.Timezone
	if s.Cloud == "standalone" {
		s.Cloud = "offline" // onboarded: the sync connects with the identity
	}
}

// adopt makes id the clock's identity: its timezone is the clock's from now.
func (a *Agent) adopt(id *identity.Identity) {
	a.ids.Adopt(id)
	a.loc.Store(id.Location())
	a.log.Info("identity", "identity", id)
}

// setup is this clock as onboarding sees it.
func (a *Agent) setup() onboarding.Setup {
	return onboarding.Setup{
		CloudURL: a.cfg.CloudURL, CloudCA: a.cfg.CloudCA, Ports: a.cfg.CloudPorts,
		StateDir: a.cfg.StateDir, Firmware: a.cfg.Version,
		Model: a.hw.Model, Network: a.hw.Network, WiFi: a.hw.WiFi, Display: a.hw.Display, Indicator: a.hw.Indicator,
		Clock: a.clk, Logger: a.log, System: a.onboardOpts,
	}
}

// onboard loads the identity, and with a cloud configured and none yet,
// runs onboarding on the keypad and display until the clock is activated.
// It returns nil when ctx ends first (the progress is kept for the next
// start) and an error only for a setup that cannot work (an unreadable CA).
func (a *Agent) onboard(ctx context.Context, keys <-chan hal.KeyEvent, badges <-chan hal.BadgeEvent) error {
	store := a.IdentityStore()
	if done, err := a.resumeDisable(); done || err != nil {
		return err
	}
	id, err := store.Load()
	switch {
	case err == nil:
		a.adopt(id)
		return nil
	case errors.Is(err, identity.ErrNotOnboarded) && a.phaseNow() == phaseDisabling:
		// Disabled, and the credentials already erased: the last
		// transmission was over when the clock stopped.
		st := a.stateFile.Load()
		r, _ := loadDisable(st)
		r.Phase = phaseDisabled
		return a.setPhase(st, &r, "credentials already erased")
	case errors.Is(err, identity.ErrTorn):
		to, serr := store.SetAside(a.clk.Now())
		a.log.Error("identity damaged: set aside, the clock is not onboarded", "err", err, "moved_to", to, "set_aside_err", serr)
	case !errors.Is(err, identity.ErrNotOnboarded):
		return fmt.Errorf("agent: %w", err)
	}
	if a.cfg.CloudURL == "" {
		return nil // standalone
	}
	opts, err := a.setup().Options(store, keys, badges)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	opts.OnState = func(s onboarding.State) { a.ids.SetStep(s.String()) }
	opts.Probes = a.probes
	a.setState(StateOnboarding, "cloud configured, no identity")
	id, err = onboarding.Run(ctx, opts)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent: onboarding: %w", err)
	}
	a.adopt(id)
	return nil
}

// resumeDisable loads the persisted disable. A disabled clock does not
// onboard by itself: it shows "Disabled by administrator" until the
// installer asks (F4 on the screen, or the console's onboard). It reports
// whether the clock is disabled.
func (a *Agent) resumeDisable() (bool, error) {
	r, ok := loadDisable(a.stateFile.Load())
	if !ok {
		a.phase.Store(uint32(phaseEnabled))
		return false, nil
	}
	a.phase.Store(uint32(r.Phase))
	if r.Phase != phaseDisabled {
		return false, nil
	}
	// The record is written before the erase; credentials left by an
	// erase cut short go now.
	if _, err := a.IdentityStore().Load(); err == nil {
		a.log.Warn("erasing the credentials a disable left behind")
		if err := a.EraseIdentity(); err != nil {
			return true, err
		}
	}
	a.log.Warn("disabled by the administrator: punches are refused until the clock is set up again (F4 on its screen, or the console's onboard)",
		"by", r.By, "disabled_at", r.At.Format(time.RFC3339), "final_seq", r.FinalSeq)
	return true, nil
}

// PasscodeHash is the technician passcode's hash kept with the identity
// (bcrypt, as the console checks it: agent/console/passcode.go); "" before onboarding.
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
