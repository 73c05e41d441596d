package main

// The technician's serial console while the clock is out of service: the
// same port, login and line editor as the agent's console, answering
// status, time, config show and log with what the mode knows (the state,
// the reason, when the agent is tried again); every command that needs the
// agent says it is not running. It reads the activation's passcode hash
// from the identity, writes nothing.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"timeclock/agent/console"
	"timeclock/agent/logring"
	"timeclock/agent/outofservice"
	"timeclock/board"
	"timeclock/clock"
	"timeclock/onboarding/identity"
)

// faultConsole is console.Agent for the out-of-service mode.
type faultConsole struct {
	reason   string
	model    string
	retryAt  time.Time
	left     *atomic.Int64 // seconds until the retry, from the countdown
	stateDir string
	fields   []console.Field // config show
}

// retryAtText is the retry's wall time for a person, or "unknown" while
// the wall clock reads below floor (this binary's build time: a board
// without an RTC battery after a power cut): the countdown runs on the
// monotonic clock and is right either way; a date months back would
// mislead.
func retryAtText(t, floor time.Time) string {
	if !clock.IsSet(t) || t.Before(floor) {
		return "unknown (the clock is not set)"
	}
	return t.UTC().Format(time.RFC3339)
}

func (f *faultConsole) notRunning() error {
	return fmt.Errorf("the clock is out of service: the agent is not running (tried again in %s); %s",
		outofservice.Countdown(time.Duration(f.left.Load())*time.Second), f.reason)
}

func (f *faultConsole) Status() []console.Field {
	return []console.Field{{Key: "state", Value: "out-of-service"}, {Key: "reason", Value: f.reason},
		{Key: "retry_in", Value: outofservice.Countdown(time.Duration(f.left.Load()) * time.Second)},
		{Key: "retry_at", Value: retryAtText(f.retryAt, clock.BuildTime())},
		{Key: "agent", Value: "stopped by systemd after failed starts (journalctl -u timeclockd)"},
		{Key: "model", Value: f.model}, {Key: "version", Value: version}}
}

func (f *faultConsole) Time() []console.Field {
	now := time.Now()
	return []console.Field{{Key: "local", Value: now.Format("2006-01-02 15:04:05 MST")},
		{Key: "utc", Value: now.UTC().Format(time.RFC3339)}}
}

func (f *faultConsole) Config() []console.Field { return f.fields }

func (f *faultConsole) Punches(context.Context, console.PunchList, int) ([]string, error) {
	return nil, f.notRunning()
}
func (f *faultConsole) PendingPunches() (int, error)              { return 0, f.notRunning() }
func (f *faultConsole) Sync(context.Context, io.Writer) error     { return f.notRunning() }
func (f *faultConsole) NetCheck(context.Context, io.Writer) error { return f.notRunning() }
func (f *faultConsole) Reboot(context.Context) error              { return f.notRunning() }
func (f *faultConsole) FactoryReset(context.Context) error        { return f.notRunning() }
func (f *faultConsole) Onboard(context.Context) error             { return f.notRunning() }
func (f *faultConsole) Storage() ([]console.Field, error)         { return nil, f.notRunning() }
func (f *faultConsole) StorageNotice() (string, bool)             { return "", false }
func (f *faultConsole) ClearStorageNotice() (bool, error)         { return false, f.notRunning() }
func (f *faultConsole) SetTime(context.Context, time.Time) (time.Time, error) {
	return time.Time{}, f.notRunning()
}
func (f *faultConsole) UpdateStatus() ([]console.Field, error) { return nil, f.notRunning() }
func (f *faultConsole) SetZone(string) error                   { return f.notRunning() }
func (f *faultConsole) Zone() *time.Location                   { return time.Local }

// PasscodeHash is the activation's, read from the identity (read only);
// the console falls back to the config file's.
func (f *faultConsole) PasscodeHash() (string, error) {
	id, err := identity.NewStore(f.stateDir).Load()
	if errors.Is(err, identity.ErrNotOnboarded) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return id.PasscodeHash, nil
}

// faultConsoleFile is the console's part of the config as the mode reads
// it: the whole config when the agent's read accepts it, otherwise what
// decodes of the console keys (a key of the wrong type is left out).
func faultConsoleFile(fl *flags, fc fileConfig, cfgErr error) consoleFile {
	if cfgErr == nil {
		return fc.consoleFile
	}
	var cf consoleFile
	if b, err := os.ReadFile(fl.config); err == nil {
		_ = json.Unmarshal(b, &cf) // keeps what decoded before and after a bad field
	}
	return cf
}

// startFaultConsole serves the console on the config's port, if it names
// one; a console that cannot start is logged and left out (the screen and
// the retry matter more).
func startFaultConsole(ctx context.Context, wg *sync.WaitGroup, fl *flags, fc fileConfig, cfgErr error, model *board.Model,
	fa *faultConsole, ring *logring.Ring, log *slog.Logger) {
	port, cf := fc.Console, faultConsoleFile(fl, fc, cfgErr)
	if port == "" {
		return
	}
	noLogin := fl.consoleNoLogin && model != nil && model.Display.Driver == "sim"
	cfg := cf.config(noLogin)
	fa.fields = []console.Field{{Key: "board", Value: fc.Board}, {Key: "config", Value: fl.config},
		{Key: "config_error", Value: errString(cfgErr)}, {Key: "console", Value: port + " " + cfg.LineMode()}}
	con, err := console.New(console.Options{Config: cfg, Port: port, Open: portOpener(port, cfg), Agent: fa, Logs: ring, Logger: log})
	if err != nil {
		log.Error("out of service: console", "err", err)
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		con.Run(ctx)
	}()
}

func errString(err error) string {
	if err == nil {
		return "none"
	}
	return err.Error()
}
