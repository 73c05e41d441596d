package update

import (
	"fmt"
	"os"
	"time"

	"timeclock/wire"
)

// DefaultMaxStarts is how many starts a trial gets when none ended in a
// failure (a power cut or a clean restart is not one): after that many
// without a commit, BootCheck rolls back.
const DefaultMaxStarts = 3

// BootCheck runs before every start of the service (ExecStartPre, from the
// package's binary, which an update never replaces): it is the part of the
// rollback that must not depend on the new version starting at all. In a
// trial it rolls back when the last run failed (RecordStop wrote how), the
// trial version asked for it, the trial had MaxStarts starts, or its
// deadline passed; otherwise it counts the start. It returns what it did,
// for the log ("" for nothing).
func BootCheck(stateDir string, now time.Time) (string, error) {
	s, err := LoadState(stateDir)
	if err != nil {
		return "", err
	}
	slots := SlotsIn(stateDir)
	switch s.Phase {
	case wire.UpdateInstalling:
		// Stopped while writing the inactive slot: the link was never
		// switched, the running version stays.
		s.Phase, s.Reason, s.Reported, s.Changed = wire.UpdateFailed, "the install was interrupted (restart or power cut) before the switch; nothing changed", false, now
		return "install interrupted: " + s.Reason, SaveState(stateDir, s)
	case wire.UpdateTrial, PhaseRollback:
	default:
		return "", nil
	}
	active, err := slots.Active()
	if err != nil {
		return "", err
	}
	if active != s.Slot {
		// The state says trial but the link was never switched (a power
		// cut between the two writes): the old version runs on.
		s.Phase, s.Reason, s.Reported, s.Changed = wire.UpdateFailed, "the install was interrupted (restart or power cut) before the switch; nothing changed", false, now
		return "install interrupted: " + s.Reason, SaveState(stateDir, s)
	}
	max := s.MaxStarts
	if max <= 0 {
		max = DefaultMaxStarts
	}
	var why string
	switch {
	case s.Phase == PhaseRollback:
		why = s.Reason
	case s.LastExit != "":
		why = fmt.Sprintf("version %s failed on trial: %s", s.Version, s.LastExit)
	case s.TrialStarts >= max:
		why = fmt.Sprintf("version %s did not commit in %d starts", s.Version, s.TrialStarts)
	case !s.Deadline.IsZero() && now.After(s.Deadline):
		why = fmt.Sprintf("version %s did not commit within %s", s.Version, s.Deadline.Sub(s.TrialStart).Round(time.Second))
	}
	if why == "" {
		s.TrialStarts++
		s.Changed = now
		return fmt.Sprintf("trial of %s: start %d of %d", s.Version, s.TrialStarts, max), SaveState(stateDir, s)
	}
	return "rolled back: " + why, rollback(stateDir, s, why, now)
}

// rollback points the link back at the previous slot, then records the
// outcome for the previous version to report. A power cut between the two
// leaves the trial state with the old link: BootCheck then sees the link
// away from the trial's slot and records an interrupted install, and the
// reason it gives is less precise, but the clock runs the old version.
func rollback(stateDir string, s State, why string, now time.Time) error {
	if err := SlotsIn(stateDir).Switch(s.Previous); err != nil {
		return err
	}
	s.Phase, s.Reason, s.Reported, s.Changed = wire.UpdateRolledBack, why, false, now
	return SaveState(stateDir, s)
}

// RecordStop runs after every stop (ExecStopPost) with systemd's account of
// it (SERVICE_RESULT, EXIT_CODE, EXIT_STATUS): in a trial, a stop that was
// a failure is written down for BootCheck, which rolls back at the next
// start. A clean stop (status 0, the reboot or update restart codes) is not
// a failure.
func RecordStop(stateDir string, getenv func(string) string, cleanCodes []string, now time.Time) (string, error) {
	s, err := LoadState(stateDir)
	if err != nil || s.Phase != wire.UpdateTrial {
		return "", err
	}
	result, code, status := getenv("SERVICE_RESULT"), getenv("EXIT_CODE"), getenv("EXIT_STATUS")
	var failed string
	switch {
	case result == "watchdog":
		failed = "killed by the watchdog (no ping for WatchdogSec)"
	case result == "timeout":
		failed = "did not start in time (no READY within TimeoutStartSec)"
	case code == "exited" && (status == "0" || contains(cleanCodes, status)):
		return "", nil
	case code == "exited":
		failed = "exited with status " + status
	case code == "killed" && (status == "TERM" || status == "INT"):
		return "", nil // stopped by systemctl or a shutdown
	case code == "killed" || code == "dumped":
		failed = "killed by signal " + status
	case result != "" && result != "success":
		failed = "stopped: " + result
	default:
		return "", nil
	}
	s.LastExit, s.Changed = failed, now
	return "trial run failed: " + failed, SaveState(stateDir, s)
}

func contains(l []string, v string) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

// EnsureBootable makes sure the current link leads to a binary: when it
// does not (slots deleted by hand, a link pointing to an empty slot), it
// points it at the other slot if that has one, else seeds slot a from
// fallback (the package's binary). The clock then starts, whatever
// happened to the slots.
func EnsureBootable(stateDir, fallback string) (string, error) {
	sl := SlotsIn(stateDir)
	ok := func(slot string) bool {
		fi, err := os.Stat(sl.BinaryPath(slot))
		return err == nil && fi.Mode().IsRegular() && fi.Size() > 0 && fi.Mode()&0o111 != 0
	}
	active, err := sl.Active()
	if err == nil && ok(active) {
		return "", nil
	}
	if err == nil && ok(Other(active)) {
		return fmt.Sprintf("slot %s has no binary: switched to slot %s", active, Other(active)), sl.Switch(Other(active))
	}
	if err := os.MkdirAll(sl.Dir, 0o755); err != nil {
		return "", err
	}
	return "no bootable slot: slot a seeded from " + fallback, sl.Seed(fallback)
}

// Rescue runs when systemd has given up on the service (OnFailure=, after
// StartLimitBurst failed starts): a trial is rolled back at once, so the
// service can be started again with the previous version. rolledBack is
// false when no trial was under way: then the failure is the running
// version's own, and the rescue shows the out-of-service screen instead
// (timeclockd-fault.service), which tries the agent again after a pause.
func Rescue(stateDir string, now time.Time) (msg string, rolledBack bool, err error) {
	s, err := LoadState(stateDir)
	if err != nil || (s.Phase != wire.UpdateTrial && s.Phase != PhaseRollback) {
		return "", false, err
	}
	if active, err := SlotsIn(stateDir).Active(); err != nil || active != s.Slot {
		return "", false, err
	}
	why := s.Reason
	switch {
	case s.Phase == PhaseRollback:
	case s.LastExit != "":
		why = fmt.Sprintf("version %s failed on trial: %s (systemd stopped restarting it)", s.Version, s.LastExit)
	default:
		why = fmt.Sprintf("version %s failed on trial: systemd stopped restarting it (start limit)", s.Version)
	}
	return "rolled back: " + why, true, rollback(stateDir, s, why, now)
}
