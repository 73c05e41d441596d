// Package disable is the administrator's disable as the clock keeps it: the
// phase it is in, persisted by name in the state file (store.KeyDisabled)
// with the command that started it, so a restart shows the disabled screen
// again, or resumes the last transmission.
package disable

import (
	"encoding/json"
	"fmt"
	"time"

	"timeclock/agent/store"
	"timeclock/wire"
)

// Phase is where a disable by the administrator is.
type Phase uint8

// The phases, in the order a disable goes through them.
const (
	Enabled Phase = iota
	// Disabling: the command came; punches are refused and the last
	// transmission is going out. The credentials are still there.
	Disabling
	// Disabled: the last transmission is acknowledged and the credentials
	// are erased; the clock waits to be onboarded again.
	Disabled
)

var phaseNames = [...]string{"enabled", "disabling", "disabled"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// MarshalText writes the phase by name.
func (p Phase) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a phase by name. A name this clock does not know
// still means the administrator disabled it: the safe reading is Disabled.
func (p *Phase) UnmarshalText(b []byte) error {
	*p = Disabled
	for i, n := range phaseNames {
		if n == string(b) {
			*p = Phase(i)
		}
	}
	return nil
}

// Record is the persisted disable.
type Record struct {
	Phase     Phase     `json:"phase"`
	CommandID string    `json:"command"` // the disable command's ID
	By        string    `json:"by,omitempty"`
	Issued    time.Time `json:"issued,omitzero"`
	At        time.Time `json:"at"`
	FinalSeq  uint64    `json:"final_seq,omitempty"`
}

// Begin is the record of a disable command that came at at: the clock is
// disabling.
func Begin(cmd wire.Command, at time.Time) *Record {
	return &Record{Phase: Disabling, CommandID: cmd.ID, By: cmd.By, Issued: cmd.Issued, At: at}
}

// Command is the disable command the record was started by, for the sync
// to resume the last transmission with.
func (r Record) Command() *wire.Command {
	return &wire.Command{ID: r.CommandID, Type: wire.CmdDisable, By: r.By, Issued: r.Issued}
}

// Load reads the disable record; ok false when the clock is enabled.
func Load(st *store.Store) (r Record, ok bool) {
	b := st.Disabled()
	if b == nil {
		return Record{}, false
	}
	return decode(b), true
}

// decode reads a stored record. A record it cannot read (or one without a
// phase) still means the administrator disabled the clock: Disabled.
func decode(b []byte) Record {
	r := Record{Phase: Disabled}
	if err := json.Unmarshal(b, &r); err != nil {
		return Record{Phase: Disabled}
	}
	return r
}

// Save writes the record durably (nil: enabled again).
func Save(st *store.Store, r *Record) error {
	if r == nil {
		return st.SetDisabled(nil)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return st.SetDisabled(b)
}
