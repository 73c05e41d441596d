// Package update owns the clock's over-the-air updates: the A/B slots under
// the state directory and the `current` link the service runs, the update
// state file, downloading a release (resumed with HTTP Range), checking it
// (package release: signature, hash, architecture, model, version floor)
// and installing it into the inactive slot, the trial that commits only when
// the cloud acknowledged it, and the rollback decision. That decision runs
// outside the new binary (BootCheck, in the package's own binary before every
// start, and RecordStop after every stop: timeclockd.service's ExecStartPre
// and ExecStopPost), so a new version that cannot even start is still rolled
// back. docs/updates.md explains the whole design.
package update

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"timeclock/internal/atomicfile"
)

// StateFile is the update state, in the state directory. Its format is a
// contract between versions: the previous version reads it after a
// rollback, and the package's binary (BootCheck) reads what any slot wrote.
// Fields are only ever added.
const StateFile = "update.json"

// State is the update state file.
type State struct {
	Format int `json:"format"` // 1
	// Phase is one of the wire.Update* states, or PhaseRollback when the
	// trial version asks BootCheck to roll back.
	Phase   string `json:"phase"`
	Release string `json:"release,omitempty"` // the cloud's release ID
	Version string `json:"version,omitempty"` // the release's version
	From    string `json:"from,omitempty"`    // the version it replaced
	Slot    string `json:"slot,omitempty"`    // the slot installed into
	// Previous is the slot to roll back to.
	Previous string `json:"previous,omitempty"`
	// Floor is the running release's version floor: the oldest version
	// that reads its state, so no downgrade goes below it.
	Floor string `json:"floor,omitempty"`
	// TrialFloor is the trial release's floor, Floor once it commits.
	TrialFloor string `json:"trial_floor,omitempty"`
	// Trial: when it began, its deadline, how many starts it had, and how
	// the last run ended (RecordStop), empty for a clean stop.
	TrialStart  time.Time `json:"trial_start,omitzero"`
	Deadline    time.Time `json:"deadline,omitzero"`
	TrialStarts int       `json:"trial_starts,omitempty"`
	MaxStarts   int       `json:"max_starts,omitempty"`
	LastExit    string    `json:"last_exit,omitempty"`
	Percent     int       `json:"percent,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	// SlotVersions is what each slot holds, as far as updates wrote them.
	SlotVersions map[string]string `json:"slot_versions,omitempty"`
	// Reported: the cloud acknowledged this phase.
	Reported bool      `json:"reported,omitempty"`
	Changed  time.Time `json:"changed,omitzero"`
	// Switched and Committed time the last update (docs/updates.md).
	Switched  time.Time `json:"switched,omitzero"`
	Committed time.Time `json:"committed,omitzero"`
}

// PhaseRollback is the trial version's request to BootCheck.
const PhaseRollback = "rollback-requested"

// LoadState reads the state; a missing file is an idle state.
func LoadState(stateDir string) (State, error) {
	var s State
	b, err := os.ReadFile(filepath.Join(stateDir, StateFile))
	if errors.Is(err, os.ErrNotExist) {
		return State{Format: 1, Phase: "idle"}, nil
	}
	if err != nil {
		return s, fmt.Errorf("update state: %w", err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("update state %s: %w", filepath.Join(stateDir, StateFile), err)
	}
	if s.Phase == "" {
		s.Phase = "idle"
	}
	return s, nil
}

// SaveState writes the state atomically (fsynced).
func SaveState(stateDir string, s State) error {
	s.Format = 1
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(stateDir, StateFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("update state: %w", err)
	}
	return nil
}

// Info is the update state as the console shows it.
type Info struct {
	State  State
	Active string            // the slot current points to ("" without slots)
	Slots  map[string]string // slot -> the version it holds, where known
	Err    string            // why the slots cannot be read
}

// Describe reads the state and the slots; running is the running version.
func Describe(stateDir, running string) (Info, error) {
	s, err := LoadState(stateDir)
	if err != nil {
		return Info{}, err
	}
	in := Info{State: s, Slots: map[string]string{}}
	for k, v := range s.SlotVersions {
		in.Slots[k] = v
	}
	sl := SlotsIn(stateDir)
	if in.Active, err = sl.Active(); err != nil {
		in.Err = err.Error()
		return in, nil
	}
	in.Slots[in.Active] = running
	return in, nil
}
