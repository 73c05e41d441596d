package agent

import (
	"errors"

	"timeclock/hal"
)

// Hardware is the opened board as the agent sees it: HAL devices and a few
// facts about the model. cmd/timeclockd builds it from a board.Set so the
// agent never depends on concrete drivers.
type Hardware struct {
	Model   string
	Keypad  hal.Keypad
	Display hal.Display
	Badges  []hal.BadgeReader
	// Finger is the fingerprint module, nil when the model has none. A
	// module that also enrolls (hal.FingerEnroller) lets supervisors
	// enroll fingers at the clock.
	Finger    hal.FingerReader
	Indicator hal.Indicator
	// Network names the model's interfaces, LAN first.
	Network []string
	// WiFi names the wireless ones among Network.
	WiFi []string
}

func (h Hardware) check() error {
	if h.Display == nil {
		return errors.New("agent: hardware has no display")
	}
	if h.Keypad == nil {
		return errors.New("agent: hardware has no keypad")
	}
	if h.Indicator == nil {
		return errors.New("agent: hardware has no indicator")
	}
	return nil
}
