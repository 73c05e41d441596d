package punchflow

import "fmt"

// State is where the punch flow is. The agent reports it as its own state
// of the same name (status key "state").
type State uint8

// The flow's states; the zero State is idle.
const (
	StateIdle       State = iota // the idle screen: date, time, "Badge or PIN"
	StateEntry                   // a PIN is being typed or a punch key was pressed
	StateDepartment              // the employee picks one of their departments
	StateBusy                    // looking up or recording a punch (a few ms)
	StateFeedback                // a punch result is on screen
	StateDisabled                // disabled by the administrator: punches refused
	// StateOnboarding ends the flow: the installer confirmed, on the
	// disabled screen, that the clock is to be set up again.
	StateOnboarding
	// StateEnroll: a supervisor's enrollment (agent/enrollflow) has the
	// screen; the punch flow waits for it to end (EnrollDone).
	StateEnroll
)

var stateNames = [...]string{"idle", "entry", "department", "busy", "feedback", "disabled", "onboarding", "enroll"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}
