package main

import (
	"timeclock/board"
	"timeclock/onboarding"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
)

// onboardOptions picks onboarding's system facts for the board: a real
// board reads its interfaces and its serial from the hardware; the
// simulated one has no interfaces of its own and a serial generated per
// state directory, so several sim clocks on one host stay distinct.
func onboardOptions(simulated bool, stateDir string) onboarding.System {
	if simulated {
		return onboarding.System{}
	}
	return onboarding.System{
		Links: netcheck.SysLinks{},
		Serial: func() (string, error) {
			return identity.DeviceSerial(identity.SerialOpts{StateDir: stateDir, Board: true})
		},
	}
}

// wifiIfaces names the model's wireless interfaces.
func wifiIfaces(model board.Model) []string {
	var out []string
	for _, n := range model.Network {
		if n.Kind == board.NetWiFi {
			out = append(out, n.Name)
		}
	}
	return out
}
