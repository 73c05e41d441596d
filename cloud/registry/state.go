package registry

import (
	"fmt"

	"timeclock/cloud/store"
)

// Event is what happens to a device on its way through approval and
// disable.
type Event uint8

// The events.
const (
	// EvDisable: an administrator disabled it; its last transmission is
	// awaited.
	EvDisable Event = iota + 1
	// EvDisableNow: an administrator disabled it without waiting (a lost or
	// stolen clock).
	EvDisableNow
	// EvFinalReported: the clock answered the disable command: it sent
	// everything, got the acks, and erased its credentials.
	EvFinalReported
	// EvActivated: the clock was onboarded again with a new certificate.
	EvActivated
)

var eventNames = map[Event]string{
	EvDisable:       "disabled by administrator",
	EvDisableNow:    "disabled by administrator without waiting for the last transmission",
	EvFinalReported: "last transmission acknowledged",
	EvActivated:     "onboarded again",
}

func (e Event) String() string {
	if n, ok := eventNames[e]; ok {
		return n
	}
	return fmt.Sprintf("Event(%d)", uint8(e))
}

// next is the device's status after e. It is the whole disable state
// machine: approved -> disabling (waiting for the one last transmission)
// -> disabled; disabling straight to disabled when the administrator does
// not wait; any -> approved by onboarding again.
func next(s store.DeviceStatus, e Event) store.DeviceStatus {
	switch e {
	case EvActivated:
		return store.DeviceApproved
	case EvDisable:
		if s == store.DeviceApproved {
			return store.DeviceDisabling
		}
	case EvDisableNow:
		return store.DeviceDisabled
	case EvFinalReported:
		if s == store.DeviceDisabling {
			return store.DeviceDisabled
		}
	}
	return s
}

// mayConnect says whether a device in status s may use the broker: approved
// clocks, and disabling ones for their last transmission.
func mayConnect(s store.DeviceStatus) bool {
	return s == store.DeviceApproved || s == store.DeviceDisabling
}
