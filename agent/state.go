package agent

import (
	"fmt"

	"timeclock/agent/punchflow"
)

// State is what the clock is doing, as status reports it.
type State uint8

// The agent's states. They are reported and persisted by name.
const (
	StateStarting   State = iota
	StateIdle             // the idle screen: date, time, "Badge or PIN"
	StateEntry            // a PIN is being typed or a punch key was pressed
	StateDepartment       // the employee picks one of their departments
	StateBusy             // looking up or recording a punch (a few ms)
	StateFeedback         // a punch result is on screen
	StateDisabled         // disabled by the administrator: punches refused
	StateStopping
	StateOnboarding // a cloud is configured and the clock has no identity yet
	StateEnroll     // a supervisor is enrolling a finger
	// StateStorageError: the state file cannot be opened at all (a full
	// or read-only disk); the clock says so and tries again.
	StateStorageError
)

var stateNames = [...]string{"starting", "idle", "entry", "department", "busy", "feedback", "disabled", "stopping", "onboarding", "enroll", "storage-error"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// flowStates are the punch flow's states as the agent reports them; the
// names are the same.
var flowStates = [...]State{
	punchflow.StateIdle:       StateIdle,
	punchflow.StateEntry:      StateEntry,
	punchflow.StateDepartment: StateDepartment,
	punchflow.StateBusy:       StateBusy,
	punchflow.StateFeedback:   StateFeedback,
	punchflow.StateDisabled:   StateDisabled,
	punchflow.StateOnboarding: StateOnboarding,
	punchflow.StateEnroll:     StateEnroll,
}

// stateOf is the agent's state while the punch flow is in s.
func stateOf(s punchflow.State) State { return flowStates[s] }
