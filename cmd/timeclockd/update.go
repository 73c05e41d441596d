package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"timeclock/agent/update"
)

// releaseKeys are the release public keys built in (comma-separated
// base64), set at build time: -ldflags "-X main.releaseKeys=KEY1,KEY2".
// A new key reaches the clocks in a release signed with the old one.
var releaseKeys = ""

func builtinReleaseKeys() []string {
	var out []string
	for _, k := range strings.Split(releaseKeys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// updateHook runs --update-check (ExecStartPre) or --update-stopped
// (ExecStopPost) on the state directory and reports on stderr (the
// journal). It never fails the start: a check that cannot run leaves the
// slots as they are, and the unit ignores its status ("-").
//
// The hooks need only the state directory. A config the agent refuses (a
// typo made during a trial, a key of a newer version) must not stop them:
// that is when a trial most needs rolling back. With --state-dir given, as
// the unit gives it, they go on and say why.
func updateHook(fl *flags) error {
	fc, err := loadConfig(fl)
	if err != nil {
		if !fl.set["state-dir"] {
			return err
		}
		fmt.Fprintf(os.Stderr, "timeclockd: update: %v; the update hook goes on with --state-dir %s\n", err, fl.stateDir)
		fc.StateDir = fl.stateDir
	}
	var msg string
	if fl.updateRescue {
		msg, ok, err := update.Rescue(fc.StateDir, time.Now())
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(os.Stderr, "timeclockd: update: no update trial to roll back: the clock goes out of service and tries the agent again later")
			return &exitStatus{code: 3}
		}
		fmt.Fprintln(os.Stderr, "timeclockd: update:", msg)
		return nil
	}
	if fl.updateCheck {
		msg, err = update.BootCheck(fc.StateDir, time.Now())
		if self, serr := os.Executable(); serr == nil {
			m, eerr := update.EnsureBootable(fc.StateDir, self)
			if m != "" {
				fmt.Fprintln(os.Stderr, "timeclockd: update:", m)
			}
			err = errors.Join(err, eerr)
		}
	} else {
		clean := []string{strconv.Itoa(update.ExitCode)}
		if fl.rebootExit != 0 {
			clean = append(clean, strconv.Itoa(fl.rebootExit))
		}
		msg, err = update.RecordStop(fc.StateDir, os.Getenv, clean, time.Now())
	}
	if msg != "" {
		fmt.Fprintln(os.Stderr, "timeclockd: update:", msg)
	}
	return err
}
