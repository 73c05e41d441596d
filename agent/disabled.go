package agent

import (
	"encoding/json"
	"fmt"
	"time"

	"timeclock/wire"
)

// disablePhase is where a disable by the administrator is. It is persisted
// by name in the state file (store.KeyDisabled), so a restart shows the
// disabled screen again, or resumes the last transmission.
type disablePhase uint8

const (
	enabled disablePhase = iota
	// disabling: the command came; punches are refused and the last
	// transmission is going out. The credentials are still there.
	disabling
	// disabledDone: the last transmission is acknowledged and the
	// credentials are erased; the clock waits to be onboarded again.
	disabledDone
)

var phaseNames = [...]string{"enabled", "disabling", "disabled"}

func (p disablePhase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("disablePhase(%d)", uint8(p))
}

func parsePhase(s string) (disablePhase, error) {
	for i, n := range phaseNames {
		if n == s {
			return disablePhase(i), nil
		}
	}
	return 0, fmt.Errorf("unknown disable phase %q", s)
}

// disableRecord is the persisted disable.
type disableRecord struct {
	Phase    string    `json:"phase"`
	Command  string    `json:"command"` // the disable command's ID
	By       string    `json:"by,omitempty"`
	Issued   time.Time `json:"issued,omitzero"`
	At       time.Time `json:"at"`
	FinalSeq uint64    `json:"final_seq,omitempty"`
}

func (r disableRecord) phase() disablePhase {
	p, err := parsePhase(r.Phase)
	if err != nil {
		// A record we cannot read still means the administrator
		// disabled the clock: the safe reading is "disabled".
		return disabledDone
	}
	return p
}

func (r disableRecord) command() *wire.Command {
	return &wire.Command{ID: r.Command, Type: wire.CmdDisable, By: r.By, Issued: r.Issued}
}

// loadDisabled reads the disable record; ok false when the clock is enabled.
func (d *durable) loadDisabled() (disableRecord, bool) {
	b := d.store.Disabled()
	if b == nil {
		return disableRecord{}, false
	}
	var r disableRecord
	if err := json.Unmarshal(b, &r); err != nil {
		r = disableRecord{Phase: disabledDone.String()}
	}
	return r, true
}

// saveDisabled writes the record durably (nil: enabled again).
func (d *durable) saveDisabled(r *disableRecord) error {
	if r == nil {
		return d.store.SetDisabled(nil)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return d.store.SetDisabled(b)
}

// disablePhase is the clock's phase now.
func (a *Agent) disablePhase() disablePhase { return disablePhase(a.phase.Load()) }

// setPhase records the phase durably, then in memory, and logs the change.
func (a *Agent) setPhase(d *durable, r *disableRecord, reason string) error {
	to := enabled
	if r != nil {
		to = r.phase()
	}
	if err := d.saveDisabled(r); err != nil {
		return fmt.Errorf("agent: disable state: %w", err)
	}
	from := disablePhase(a.phase.Swap(uint32(to)))
	if from != to {
		a.log.Warn(fmt.Sprintf("administrator %s -> %s (%s)", from, to, reason), "from", from.String(), "to", to.String(), "reason", reason)
	}
	return nil
}

// OnboardAgain forgets a disable and the identity, so the clock onboards
// again at its next start (the console's onboard).
func (a *Agent) OnboardAgain() error {
	if d := a.dur.Load(); d != nil {
		if err := a.setPhase(d, nil, "onboarding again"); err != nil {
			return err
		}
	}
	return a.EraseIdentity()
}
