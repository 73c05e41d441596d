package agent

// This file is the administrator's disable as the clock keeps it: the phase
// it is in, persisted by name in the state file (store.KeyDisabled) with the
// command that started it, so a restart shows the disabled screen again, or
// resumes the last transmission.

import (
	"encoding/json"
	"fmt"
	"time"

	"timeclock/agent/store"
	"timeclock/wire"
)

// disablePhase is where a disable by the administrator is.
type disablePhase uint8

// The phases, in the order a disable goes through them.
const (
	phaseEnabled disablePhase = iota
	// phaseDisabling: the command came; punches are refused and the last
	// transmission is going out. The credentials are still there.
	phaseDisabling
	// phaseDisabled: the last transmission is acknowledged and the credentials
	// are erased; the clock waits to be onboarded again.
	phaseDisabled
)

// disablePhaseNames are how the state file stores the phases.
var disablePhaseNames = [...]string{"enabled", "disabling", "disabled"}

func (p disablePhase) String() string {
	if int(p) < len(disablePhaseNames) {
		return disablePhaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// MarshalText writes the phase by name.
func (p disablePhase) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a phase by name. A name this clock does not know
// still means the administrator disabled it: the safe reading is phaseDisabled.
func (p *disablePhase) UnmarshalText(b []byte) error {
	*p = phaseDisabled
	for i, n := range disablePhaseNames {
		if n == string(b) {
			*p = disablePhase(i)
		}
	}
	return nil
}

// disableRecord is the persisted disable.
type disableRecord struct {
	Phase     disablePhase `json:"phase"`
	CommandID string       `json:"command"` // the disable command's ID
	By        string       `json:"by,omitempty"`
	Issued    time.Time    `json:"issued,omitzero"`
	At        time.Time    `json:"at"`
	FinalSeq  uint64       `json:"final_seq,omitempty"`
}

// beginDisable is the record of a disable command that came at at: the clock is
// disabling.
func beginDisable(cmd wire.Command, at time.Time) *disableRecord {
	return &disableRecord{Phase: phaseDisabling, CommandID: cmd.ID, By: cmd.By, Issued: cmd.Issued, At: at}
}

// Command is the disable command the record was started by, for the sync
// to resume the last transmission with.
func (r disableRecord) Command() *wire.Command {
	return &wire.Command{ID: r.CommandID, Type: wire.CmdDisable, By: r.By, Issued: r.Issued}
}

// loadDisable reads the disable record; ok false when the clock is enabled.
func loadDisable(st *store.Store) (r disableRecord, ok bool) {
	b := st.Disabled()
	if b == nil {
		return disableRecord{}, false
	}
	return decodeDisable(b), true
}

// decode reads a stored record. A record it cannot read (or one without a
// phase) still means the administrator disabled the clock: phaseDisabled.
func decodeDisable(b []byte) disableRecord {
	r := disableRecord{Phase: phaseDisabled}
	if err := json.Unmarshal(b, &r); err != nil {
		return disableRecord{Phase: phaseDisabled}
	}
	return r
}

// saveDisable writes the record durably (nil: enabled again).
func saveDisable(st *store.Store, r *disableRecord) error {
	if r == nil {
		return st.SetDisabled(nil)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return st.SetDisabled(b)
}

// disablePhase is the clock's phase now.
func (a *Agent) phaseNow() disablePhase { return disablePhase(a.phase.Load()) }

// setPhase records the phase durably, then in memory, and logs the change.
func (a *Agent) setPhase(st *store.Store, r *disableRecord, reason string) error {
	to := phaseEnabled
	if r != nil {
		to = r.Phase
	}
	if err := saveDisable(st, r); err != nil {
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
	if st := a.stateFile.Load(); st != nil {
		if err := a.setPhase(st, nil, "onboarding again"); err != nil {
			return err
		}
	}
	return a.EraseIdentity()
}
