package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	exitCode  int // --reboot-exit: exit with it instead of rebooting
	requested atomic.Bool
}

func (s *system) Reboot() error {
	s.requested.Store(true)
	s.stop()
	return nil
}

// rebootRequest is run's result when the console asked for a reboot.
type rebootRequest struct {
	sim      bool
	exitCode int
}

func (r *rebootRequest) Error() string { return "reboot requested" }

// exitStatus asks main to exit with code, saying nothing more: the caller
// (systemd's unit, with --reboot-exit) knows what it means.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// do reboots. With --reboot-exit the process exits with that code and the
// service manager reboots (timeclockd.service: its ExecStopPost as root;
// the service user cannot). Otherwise the simulated clock starts its own
// process again, and a real one asks systemd, else the reboot command, else
// the kernel: that works when timeclockd runs as root by hand.
func (r *rebootRequest) do() error {
	if r.exitCode != 0 {
		return &exitStatus{code: r.exitCode}
	}
	if r.sim {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("restart: %w", err)
		}
		return fmt.Errorf("restart: %w", syscall.Exec(self, os.Args, os.Environ()))
	}
	var errs []error
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		if err := runCommand("systemctl", "reboot"); err == nil {
			return nil
		} else {
			errs = append(errs, fmt.Errorf("systemctl reboot: %w", err))
		}
	}
	if p, err := lookPath("reboot"); err == nil {
		if err := runCommand(p); err == nil {
			return nil
		} else {
			errs = append(errs, fmt.Errorf("reboot: %w", err))
		}
	}
	unix.Sync()
	errs = append(errs, fmt.Errorf("reboot(2): %w", unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)))
	return errors.Join(errs...)
}

// runCommand runs a program and waits for it, as os/exec's Command(name,
// args...).Run() does: the name looked up on $PATH unless it has a slash,
// the process's environment and directory, stdin, stdout and stderr on
// /dev/null, and an error for an exit status other than 0. os/exec is
// ~36 KiB of the ARM binary for these two calls.
func runCommand(name string, args ...string) error {
	path, err := lookPath(name)
	if err != nil {
		return err
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	p, err := os.StartProcess(path, append([]string{name}, args...), &os.ProcAttr{Files: []*os.File{null, null, null}})
	if err != nil {
		return err
	}
	st, err := p.Wait()
	if err != nil {
		return err
	}
	if !st.Success() {
		return errors.New(st.String())
	}
	return nil
}

// lookPath finds an executable file on $PATH, as os/exec's LookPath does,
// skipping relative directories (LookPath refuses what it finds there).
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}
