package onboarding

import "fmt"

// State is a step of onboarding. States are logged and persisted by name.
type State uint8

// The states, in the order an installer meets them.
const (
	StateNetCheck        State = iota // the network check runs
	StateNetProblem                   // the check found a problem: its screen
	StateLANAdvice                    // only WiFi is up: LAN strongly suggested, go on?
	StateCompanyEntry                 // the company ID is typed
	StateCompanyLookup                // the cloud is asked for the company
	StateCompanyConfirm               // the company's name is shown to confirm
	StateCodeRequest                  // the cloud is asked to mail a code
	StateCodeEntry                    // the emailed code is typed, with a countdown
	StateCodeHelp                     // no code after a minute: the seed's help
	StateActivating                   // the code and CSR go to the cloud
	StateProblem                      // a cloud failure: its screen
	StateTimezoneConfirm              // activated: confirm the timezone
	StateDone                         // onboarded: the agent goes to idle
	numStates
)

var stateNames = [numStates]string{
	"net_check", "net_problem", "lan_advice", "company_entry", "company_lookup", "company_confirm",
	"code_request", "code_entry", "code_help", "activating", "problem", "timezone_confirm", "done",
}

func (s State) String() string {
	if s < numStates {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// ParseState reads a state name.
func ParseState(name string) (State, error) {
	for i, n := range stateNames {
		if n == name {
			return State(i), nil
		}
	}
	return 0, fmt.Errorf("onboarding: unknown state %q", name)
}

// busy reports whether the state waits on a side effect (a check or a
// cloud call) rather than on the installer.
func (s State) busy() bool {
	switch s {
	case StateNetCheck, StateCompanyLookup, StateCodeRequest, StateActivating:
		return true
	}
	return false
}
