package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"timeclock/agent"
	"timeclock/agent/console/hwtap"
	"timeclock/agent/logring"
	"timeclock/board"
	"timeclock/hal/sim"
	"timeclock/internal/cli"
	"timeclock/onboarding/netcheck"
)

// fileConfig is the --config file: the agent's config plus the choices only
// main makes.
type fileConfig struct {
	agent.Config
	consoleFile
	Board     string `json:"board"`
	BoardFile string `json:"board_file"`
	Console   string `json:"console"`
	SimSocket string `json:"sim_socket"`
}

func loadConfig(fl *flags) (fileConfig, error) {
	fc := fileConfig{Config: agent.DefaultConfig(), Board: "sim"}
	if fl.config != "" {
		b, err := os.ReadFile(fl.config)
		if err != nil {
			return fc, fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fc); err != nil {
			return fc, fmt.Errorf("config %s: %w", fl.config, err)
		}
	}
	over := func(name string, dst *string, v string) {
		if fl.set[name] {
			*dst = v
		}
	}
	over("board", &fc.Board, fl.board)
	over("board-file", &fc.BoardFile, fl.boardFile)
	over("state-dir", &fc.StateDir, fl.stateDir)
	over("cloud", &fc.CloudURL, fl.cloud)
	over("cloud-ca", &fc.CloudCA, fl.cloudCA)
	if fl.set["cloud-ports"] {
		p, err := netcheck.ParsePorts(fl.cloudPorts)
		if err != nil {
			return fc, &cli.UsageError{Cmd: "timeclockd", Msg: "--cloud-ports: " + err.Error()}
		}
		fc.CloudPorts = p
	}
	over("roster-file", &fc.RosterFile, fl.rosterFile)
	over("console", &fc.Console, fl.console)
	over("sim-socket", &fc.SimSocket, fl.simSocket)
	fc.Version = version
	if err := fc.Config.Validate(); err != nil {
		return fc, fmt.Errorf("config: %w", err)
	}
	if err := fc.consoleFile.config(false).Validate(); err != nil {
		return fc, fmt.Errorf("config: %w", err)
	}
	return fc, nil
}

func run(ctx context.Context, fl *flags) error {
	start := time.Now()
	fc, err := loadConfig(fl)
	if err != nil {
		return err
	}
	var extra []board.Model
	if fc.BoardFile != "" {
		if extra, err = board.LoadFile(fc.BoardFile); err != nil {
			return err
		}
	}
	model, err := board.Lookup(fc.Board, extra...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(fc.StateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if fl.consoleNoLogin && (fc.Console == "" || model.Display.Driver != "sim") {
		return &cli.UsageError{Cmd: "timeclockd", Msg: "--console-no-login is for a --console on the simulated board only"}
	}
	// A stdio console on a terminal takes the keyboard from the sim TUI.
	stdioTerm := fc.Console == "stdio" && sim.IsTerminal(os.Stdin)
	useTUI := model.Display.Driver == "sim" && sim.IsTerminal(os.Stdin) && !stdioTerm
	logPath := fl.logFile
	if logPath == "" && (useTUI || stdioTerm) {
		logPath = filepath.Join(fc.StateDir, "timeclockd.log")
	}
	erased, err := agent.FinishFactoryReset(fc.StateDir, logPath, fl.config, fc.RosterFile, fc.CloudCA, fc.BoardFile)
	if err != nil {
		return err
	}

	logOut, closeLog, err := openLog(logPath, fc.StateDir, false)
	if err != nil {
		return err
	}
	defer closeLog()
	ring := logring.New(500)
	log := slog.New(logring.Tee(
		slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: fl.level, ReplaceAttr: logring.Redact}),
		ring.Handler(fl.level),
	))
	if erased {
		log.Warn("factory reset: the state directory was erased", "dir", fc.StateDir)
	}

	set, err := board.Open(model, board.Opts{Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := set.Halt(); err != nil {
			log.Error("halt", "err", err)
		}
	}()
	log.Info("board open", "model", model.Name, "display", set.Display.String())

	var ifaces []string
	for _, n := range model.Network {
		ifaces = append(ifaces, n.Name)
	}
	hw := agent.Hardware{
		Model:     model.Name,
		Keypad:    set.Keypad,
		Display:   set.Display,
		Badges:    set.Badges,
		Indicator: set.Indicator,
		Network:   ifaces,
		WiFi:      wifiIfaces(model),
	}
	var tap *hwtap.Tap
	if fc.Console != "" {
		tap = hwtap.New() // the console's hardware checks borrow the devices through it
		hw = hw.Tapped(tap)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sys := &system{stop: cancel, sim: set.Sim != nil}
	a, err := agent.New(fc.Config, hw, agent.Options{Logger: log, Start: start, Onboard: onboardOptions(set.Sim != nil, fc.StateDir), System: sys})
	if err != nil {
		return err
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	errc := make(chan error, 3)
	if fc.Console != "" {
		if err := startConsole(ctx, &wg, fc, fl.consoleNoLogin, a, tap, ring, log, sys); err != nil {
			return err
		}
	}

	if set.Sim != nil {
		set.Sim.SetStatus(func() map[string]any { return a.Status().Map() })
		path := fc.SimSocket
		if path == "" {
			path = filepath.Join(fc.StateDir, "sim.sock")
		}
		ln, err := sim.Listen(path)
		if err != nil {
			return err
		}
		log.Info("sim control socket", "path", path)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer os.Remove(path)
			if err := set.Sim.Serve(ctx, ln); err != nil {
				errc <- err
			}
		}()
		if useTUI {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := set.Sim.RunTUI(ctx, os.Stdin)
				if errors.Is(err, sim.ErrQuit) {
					err = nil
				}
				cancel() // leaving the TUI stops the clock
				if err != nil {
					errc <- err
				}
			}()
		}
	}

	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.Run(ctx); err != nil {
			errc <- err
		}
		cancel()
	}()
	select {
	case <-ctx.Done():
	case err := <-errc:
		cancel()
		return err
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	if sys.requested.Load() {
		log.Info("stopped for a reboot")
		return &rebootRequest{sim: sys.sim}
	}
	log.Info("stopped")
	return nil
}

func openLog(path, stateDir string, tui bool) (io.Writer, func(), error) {
	if path == "" && tui {
		path = filepath.Join(stateDir, "timeclockd.log")
	}
	if path == "" {
		return os.Stderr, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	return f, func() { f.Close() }, nil
}
