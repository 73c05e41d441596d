package agent

import "fmt"

// State is what the clock is doing, as status reports it.
type State uint8

// The agent's states. They are reported and persisted by name.
const (
	StateStarting State = iota
	StateIdle
	StateStopping
	StateOnboarding // a cloud is configured and the clock has no identity yet
)

var stateNames = [...]string{"starting", "idle", "stopping", "onboarding"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}
