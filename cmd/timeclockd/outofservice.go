package main

// This file is --out-of-service, the mode of timeclockd-fault.service: when
// systemd has given up on the agent outside an update's trial, the clock
// says so on its own display until --retry-in has passed, then exits with
// status 12 and the unit's ExecStopPost starts the agent again with a fresh
// burst of starts (docs/operations.md, "When systemd gives up").

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"timeclock/agent"
	"timeclock/agent/outofservice"
	"timeclock/board"
	"timeclock/clock"
	"timeclock/hal"
	"timeclock/internal/atomicfile"
	"timeclock/internal/sdnotify"
)

// retryExit is --out-of-service's exit status once the pause is over: try
// the agent again (timeclockd-fault.service: SuccessExitStatus=12, and its
// ExecStopPost starts timeclockd.service). A stop (SIGTERM) exits 0 and
// starts nothing.
const retryExit = 12

// runOutOfService opens the board the config names, shows the
// out-of-service screen and refuses every input until fl.retryIn has
// passed. It never opens the state file and writes nothing to the state
// directory (the sim board's control socket, which lives there by default,
// is the board's, not state). A config the agent refuses still names its
// board, read leniently; a board that cannot be opened leaves nothing to
// show, and the mode still waits out the pause so the retry keeps its pace.
func runOutOfService(ctx context.Context, fl *flags) error {
	clk := clock.Real{}
	retryAt := clk.Now().Add(fl.retryIn)
	fc, known, cfgErr := outOfServiceConfig(fl)
	var model board.Model
	var modelErr error
	if known {
		model, modelErr = pickModel(fc)
	} else {
		modelErr = errors.New("the config names no board that can be read")
	}
	term := terminal{}
	if modelErr == nil {
		term = terminalUse(fc, model)
	}
	log, ring, closeLog, err := openLogger(term.logPath(fl.logFile, fc.StateDir), fl.level)
	if err != nil {
		return err
	}
	defer closeLog()
	notifier, err := sdnotify.FromEnv(os.Getenv, os.Getpid())
	if err != nil {
		log.Error("out of service: systemd notification", "err", err)
		notifier = nil
	}

	reason := "the agent did not start: journalctl -u timeclockd says why"
	if cfgErr != nil {
		reason = cfgErr.Error()
	}
	log.Warn("out of service: systemd gave up on the agent; the clock shows out of service and tries the agent again",
		"retry_at", retryAtText(retryAt, clock.BuildTime()), "retry_in", fl.retryIn.String(), "reason", reason)

	var set *board.Set
	if modelErr == nil {
		set, modelErr = openBoard(model, log)
	}
	dev := outofservice.Devices{Display: noDisplay{}}
	if modelErr != nil {
		log.Error("out of service: no board to show it on; the agent is still tried again at the retry time", "err", modelErr)
	} else {
		defer func() {
			if err := set.Halt(); err != nil {
				log.Error("halt", "err", err)
			}
		}()
		dev = outofservice.Devices{Display: set.Display, Keypad: set.Keypad, Badges: set.Badges,
			Finger: set.Finger, Indicator: set.Indicator}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := newGroup(ctx, cancel)
	defer g.wg.Wait()
	var left atomic.Int64 // the countdown's seconds, for the sim's status
	left.Store(int64(fl.retryIn.Round(time.Second) / time.Second))
	// The console's status and the sim socket's carry the same keys.
	fa := &faultConsole{reason: reason, model: fc.Board, retryAt: retryAt, left: &left, stateDir: fc.StateDir}
	var mp *board.Model
	if set != nil {
		mp = &model
	}
	if set != nil && set.Sim != nil {
		set.Sim.SetStatus(func() map[string]any {
			m := map[string]any{}
			for _, f := range fa.Status() {
				m[f.Key] = f.Value
			}
			return m
		})
		if err := serveSim(g, set.Sim, simSocketPath(fc), term.tui, log); err != nil {
			log.Error("out of service: sim control socket", "err", err)
		}
	}
	startFaultConsole(ctx, &g.wg, fl, fc, cfgErr, mp, fa, ring, log)
	var retry atomic.Bool
	ready, lastStatus := false, ""
	g.goStop(func(ctx context.Context) error {
		err := outofservice.Run(ctx, dev, outofservice.Options{Clock: clk, RetryAt: retryAt, Log: log,
			Tick: func(l time.Duration) {
				left.Store(int64(l / time.Second))
				var msgs []string
				if !ready {
					msgs, ready = append(msgs, sdnotify.Ready), true
				}
				if st := fmt.Sprintf("out of service, agent tried again in %s: %s", outofservice.Countdown(l), reason); st != lastStatus {
					msgs, lastStatus = append(msgs, sdnotify.Status(st)), st
				}
				if notifier.Watchdog() > 0 {
					msgs = append(msgs, sdnotify.Watchdog)
				}
				if len(msgs) > 0 {
					if err := notifier.Notify(strings.Join(msgs, "\n")); err != nil {
						log.Error("out of service: systemd notification", "err", err)
					}
				}
			}})
		retry.Store(err == nil)
		return nil
	})
	if err := g.wait(); err != nil {
		return err
	}
	if !retry.Load() {
		log.Info("out of service: stopped")
		return nil
	}
	log.Info("out of service: the pause is over; trying the agent again")
	return &exitStatus{code: retryExit}
}

// outOfServiceConfig is the config the agent would use when it loads; when
// it does not (the config may be why the agent failed), what can still be
// read of it: board, board_file, sim_socket, state_dir and console, each only when
// it is a string, with the flags given over them. known is false when the
// named config cannot be read as a JSON object and no --board was given:
// nothing says which board to open, not even the board the agent last ran
// with (lastBoardFile). The error is the config's own.
func outOfServiceConfig(fl *flags) (fc fileConfig, known bool, err error) {
	fc, err = loadConfig(fl)
	if err == nil {
		return fc, true, nil
	}
	fc = fileConfig{Config: agent.DefaultConfig(), Board: "sim"}
	known = fl.config == ""
	if fl.config != "" {
		var fields map[string]json.RawMessage
		if b, rerr := os.ReadFile(fl.config); rerr == nil && json.Unmarshal(b, &fields) == nil && fields != nil {
			known = true
			for k, dst := range map[string]*string{"board": &fc.Board, "board_file": &fc.BoardFile,
				"sim_socket": &fc.SimSocket, "state_dir": &fc.StateDir, "console": &fc.Console} {
				var v string
				if raw, ok := fields[k]; ok && json.Unmarshal(raw, &v) == nil && v != "" {
					*dst = v
				}
			}
		}
	}
	if !known && !fl.set["board"] {
		// The state directory is the flag's or the default: the config
		// could not say otherwise.
		over := fc.StateDir
		if fl.set["state-dir"] {
			over = fl.stateDir
		}
		if lb, lerr := readLastBoard(over); lerr == nil {
			fc.Board, fc.BoardFile, fc.SimSocket, fc.Console = lb.Board, lb.BoardFile, lb.SimSocket, lb.Console
			known = true
			err = fmt.Errorf("%w (showing on %s, the board the agent last ran with)", err, lb.Board)
		}
	}
	known = known || fl.set["board"]
	over := func(name string, dst *string, v string) {
		if fl.set[name] {
			*dst = v
		}
	}
	over("board", &fc.Board, fl.board)
	over("board-file", &fc.BoardFile, fl.boardFile)
	over("state-dir", &fc.StateDir, fl.stateDir)
	over("sim-socket", &fc.SimSocket, fl.simSocket)
	over("console", &fc.Console, fl.console)
	return fc, known, err
}

// lastBoardFile, in the state directory, is the board the agent last
// opened and the config keys that say where it shows (written by the agent
// at each start when it changed): what the out-of-service mode falls back
// on when the config names no board that can be read, e.g. a config a
// power cut left empty. The mode only reads it.
const lastBoardFile = "board.last"

// lastBoard is lastBoardFile's content.
type lastBoard struct {
	Board     string `json:"board"`
	BoardFile string `json:"board_file,omitempty"`
	SimSocket string `json:"sim_socket,omitempty"`
	Console   string `json:"console,omitempty"`
}

// rememberBoard writes lastBoardFile when it differs from fc's board;
// errors are the caller's to log, never fatal.
func rememberBoard(fc fileConfig) error {
	b, err := json.Marshal(lastBoard{Board: fc.Board, BoardFile: fc.BoardFile, SimSocket: fc.SimSocket, Console: fc.Console})
	if err != nil {
		return err
	}
	path := filepath.Join(fc.StateDir, lastBoardFile)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return atomicfile.Write(path, b, 0o600)
}

// readLastBoard reads lastBoardFile from stateDir.
func readLastBoard(stateDir string) (lastBoard, error) {
	var lb lastBoard
	b, err := os.ReadFile(filepath.Join(stateDir, lastBoardFile))
	if err != nil {
		return lb, err
	}
	if err := json.Unmarshal(b, &lb); err != nil {
		return lb, fmt.Errorf("%s: %w", lastBoardFile, err)
	}
	if lb.Board == "" {
		return lb, fmt.Errorf("%s: no board", lastBoardFile)
	}
	return lb, nil
}

// noDisplay stands in when no board could be opened: the countdown runs
// (and pings the watchdog) with nothing to show.
type noDisplay struct{}

func (noDisplay) String() string            { return "none" }
func (noDisplay) Halt() error               { return nil }
func (noDisplay) Size() (cols, rows int)    { return 20, 4 }
func (noDisplay) Show(lines []string) error { return nil }
func (noDisplay) Clear() error              { return nil }

var _ hal.Display = noDisplay{}
