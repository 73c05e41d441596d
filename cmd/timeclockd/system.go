package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// system is how the agent reboots the clock: it stops the clock cleanly
// (run returns a *rebootRequest), and main reboots once everything is
// closed.
type system struct {
	stop      context.CancelFunc
	sim       bool
	requested atomic.Bool
}

func (s *system) Reboot() error {
	s.requested.Store(true)
	s.stop()
	return nil
}

// rebootRequest is run's result when the console asked for a reboot.
type rebootRequest struct{ sim bool }

func (r *rebootRequest) Error() string { return "reboot requested" }

// do reboots: the simulated clock starts its own process again; a real
// one asks systemd, else the reboot command, else the kernel.
func (r *rebootRequest) do() error {
	if r.sim {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		return fmt.Errorf("restart: %w", syscall.Exec(self, os.Args, os.Environ()))
	}
	var errs []error
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		if err := exec.Command("systemctl", "reboot").Run(); err == nil {
			return nil
		} else {
			errs = append(errs, fmt.Errorf("systemctl reboot: %w", err))
		}
	}
	if p, err := exec.LookPath("reboot"); err == nil {
		if err := exec.Command(p).Run(); err == nil {
			return nil
		} else {
			errs = append(errs, fmt.Errorf("reboot: %w", err))
		}
	}
	unix.Sync()
	errs = append(errs, fmt.Errorf("reboot(2): %w", unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)))
	return errors.Join(errs...)
}
