package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"timeclock/agent"
	"timeclock/agent/console"
	"timeclock/agent/logring"
	"timeclock/agent/update"
	"timeclock/board"
	"timeclock/clock"
	"timeclock/hal/sim"
	"timeclock/internal/cli"
	"timeclock/internal/journald"
	"timeclock/internal/sdnotify"
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
	// SimClockOffset starts the simulated board's wall clock this far from
	// the host's ("-87600h": ten years in the past, a board without an RTC
	// battery); the agent then sets it from the cloud's time as it would a
	// real board's. For tests and demos; the sim board only.
	SimClockOffset agent.Duration `json:"sim_clock_offset"`
	// SimSystemClock makes the simulated board read and set the system's
	// clock (clock_settime, with CAP_SYS_TIME) as a real board does, instead
	// of its own: for a machine that is wholly the clock, such as the
	// booted test tier's virtual machine. The sim board only.
	SimSystemClock bool `json:"sim_system_clock"`
}

// maxSimClockOffset bounds sim_clock_offset: a board whose clock is a
// century off is no test of anything, and the wall clock must not wrap.
const maxSimClockOffset = 100 * 365 * 24 * time.Hour

// decodeConfig reads a config file's JSON over fc: one object, no unknown
// field (a misspelt one must not be ignored), nothing after it.
func decodeConfig(b []byte, fc *fileConfig) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(fc); err != nil {
		return withField(b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	if d := fc.SimClockOffset.D(); d < -maxSimClockOffset || d > maxSimClockOffset {
		return fmt.Errorf("sim_clock_offset: %v out of range (at most %v either way)", d, maxSimClockOffset)
	}
	return nil
}

// withField names the field a value error came from: encoding/json passes
// a duration's own error ("time: invalid duration ...") up without it.
func withField(b []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var fields map[string]json.RawMessage
	if errors.As(err, &se) || errors.As(err, &te) || json.Unmarshal(b, &fields) != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(fields))
	for _, k := range names {
		one, _ := json.Marshal(map[string]json.RawMessage{k: fields[k]})
		var probe fileConfig
		if perr := json.Unmarshal(one, &probe); perr != nil {
			return fmt.Errorf("%s: %w", k, perr)
		}
	}
	return err
}

func loadConfig(fl *flags) (fileConfig, error) {
	fc := fileConfig{Config: agent.DefaultConfig(), Board: "sim"}
	if fl.config != "" {
		b, err := os.ReadFile(fl.config)
		if err != nil {
			return fc, fmt.Errorf("config: %w", err)
		}
		if err := decodeConfig(b, &fc); err != nil {
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
	fc.UpdateKeys = append(fc.UpdateKeys, builtinReleaseKeys()...)
	if err := fc.Config.Validate(); err != nil {
		return fc, fmt.Errorf("config: %w", err)
	}
	if err := fc.consoleFile.config(false).Validate(); err != nil {
		return fc, fmt.Errorf("config: %w", err)
	}
	return fc, nil
}

// run is the whole program after flag parsing: --version and
// --hash-passcode answer and return; otherwise the clock runs until ctx
// ends, and a reboot asked for on the way happens once all is closed.
func run(ctx context.Context, fl *flags) error {
	switch {
	case fl.version:
		fmt.Printf("timeclockd %s (%s/%s)\n", version, runtime.GOOS, runtime.GOARCH)
		return nil
	case fl.updateCheck, fl.updateStopped, fl.updateRescue:
		return updateHook(fl)
	case fl.outOfService:
		return runOutOfService(ctx, fl)
	case fl.hashPasscode:
		if err := hashPasscode(os.Stdin, os.Stdout, os.Stderr); err != nil {
			return fmt.Errorf("--hash-passcode: %w", err)
		}
		return nil
	}
	err := runClock(ctx, fl)
	if errors.Is(err, update.ErrRestart) {
		fmt.Fprintf(os.Stderr, "timeclockd: restarting into the other slot (exit status %d)\n", update.ExitCode)
		return &exitStatus{code: update.ExitCode}
	}
	var reboot *rebootRequest
	if errors.As(err, &reboot) {
		return reboot.do()
	}
	return err
}

// runClock starts the clock in named steps and runs it until ctx ends,
// the agent stops, or the clock is asked to reboot (a *rebootRequest).
func runClock(ctx context.Context, fl *flags) error {
	start := time.Now()
	fc, err := loadConfig(fl)
	if err != nil {
		return err
	}
	model, err := pickModel(fc)
	if err != nil {
		return err
	}
	if err := checkStart(fc, fl, model); err != nil {
		return err
	}
	limitMemory(fc.MemoryLimitMiB, os.Getenv)
	term := terminalUse(fc, model)
	logPath := term.logPath(fl.logFile, fc.StateDir)
	erased, err := agent.FinishFactoryReset(fc.StateDir, logPath, fl.config, fc.RosterFile, fc.CloudCA, fc.BoardFile)
	if err != nil {
		return err
	}
	log, ring, closeLog, err := openLogger(logPath, fl.level)
	if err != nil {
		return err
	}
	defer closeLog()
	notifier, err := sdnotify.FromEnv(os.Getenv, os.Getpid())
	if err != nil {
		return err
	}
	if erased {
		log.Warn("factory reset: the state directory was erased", "dir", fc.StateDir)
	}
	set, err := openBoard(model, log)
	if err != nil {
		return err
	}
	if err := rememberBoard(fc); err != nil {
		log.Warn("remembering the board for the out-of-service screen", "err", err)
	}
	defer func() {
		if err := set.Halt(); err != nil {
			log.Error("halt", "err", err)
		}
	}()
	hw, tap := hardware(model, set, fc.Console != "")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sys := &system{stop: cancel, sim: set.Sim != nil, exitCode: fl.rebootExit}
	clk, setter := wallClock(set.Sim != nil && !fc.SimSystemClock, fc.SimClockOffset.D())
	start = clk.Now().Add(-time.Since(start)) // on the sim's clock
	a, err := agent.New(fc.Config, hw, agent.Options{Logger: log, Clock: clk, ClockSetter: setter, Start: start,
		Onboard: onboardOptions(set.Sim != nil, fc.StateDir), System: sys})
	if err != nil {
		return err
	}
	g := newGroup(ctx, cancel)
	defer g.wg.Wait()
	defer cancel()
	if fc.Console != "" {
		if err := startConsole(ctx, &g.wg, fc, fl.consoleNoLogin, a, tap, ring, log, sys); err != nil {
			return err
		}
	}
	if set.Sim != nil {
		if err := startSim(g, set.Sim, a, simSocketPath(fc), term.tui, log); err != nil {
			return err
		}
	}
	g.goStop(a.Run)
	if notifier != nil {
		g.goErr(func(ctx context.Context) error {
			superviseSystemd(ctx, notifier, a, log)
			return nil
		})
	}
	if err := g.wait(); err != nil {
		return err
	}
	if sys.requested.Load() {
		log.Info("stopped for a reboot")
		return &rebootRequest{sim: sys.sim, exitCode: sys.exitCode}
	}
	log.Info("stopped")
	return nil
}

// pickModel finds the --board model, in the built-in list or the --board-file.
func pickModel(fc fileConfig) (board.Model, error) {
	var extra []board.Model
	if fc.BoardFile != "" {
		var err error
		if extra, err = board.LoadFile(fc.BoardFile); err != nil {
			return board.Model{}, err
		}
	}
	return board.Lookup(fc.Board, extra...)
}

// checkStart makes the state directory and refuses flag combinations that
// cannot work on this model.
func checkStart(fc fileConfig, fl *flags, model board.Model) error {
	if err := os.MkdirAll(fc.StateDir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	if fc.SimClockOffset != 0 && model.Display.Driver != "sim" {
		return &cli.UsageError{Cmd: "timeclockd", Msg: "sim_clock_offset is for the simulated board only"}
	}
	if fc.SimSystemClock && (model.Display.Driver != "sim" || fc.SimClockOffset != 0) {
		return &cli.UsageError{Cmd: "timeclockd", Msg: "sim_system_clock is for the simulated board only, without sim_clock_offset"}
	}
	if fl.consoleNoLogin && (fc.Console == "" || model.Display.Driver != "sim") {
		return &cli.UsageError{Cmd: "timeclockd", Msg: "--console-no-login is for a --console on the simulated board only"}
	}
	return nil
}

// wallClock is the clock the agent reads and the setter it sets it with
// from the cloud's time: a real board's kernel clock (clock_settime, with
// CAP_SYS_TIME), or the simulated board's own wall clock, offset from the
// host's, which it never sets.
func wallClock(sim bool, offset time.Duration) (clock.Clock, clock.Setter) {
	if sim {
		c := clock.NewOffset(clock.Real{}, offset)
		return c, c
	}
	return clock.Real{}, clock.System{}
}

// terminal says who owns this process's terminal: the simulated clock's
// face (tui), a console on stdio, or nobody.
type terminal struct{ tui, stdioConsole bool }

func terminalUse(fc fileConfig, model board.Model) terminal {
	// A stdio console on a terminal takes the keyboard from the sim TUI.
	stdioTerm := fc.Console == "stdio" && sim.IsTerminal(os.Stdin)
	return terminal{
		tui:          model.Display.Driver == "sim" && sim.IsTerminal(os.Stdin) && !stdioTerm,
		stdioConsole: stdioTerm,
	}
}

// logPath is --log-file, or STATE_DIR/timeclockd.log when the terminal is
// taken, or "" for stderr.
func (t terminal) logPath(flag, stateDir string) string {
	if flag == "" && (t.tui || t.stdioConsole) {
		return filepath.Join(stateDir, "timeclockd.log")
	}
	return flag
}

// openLogger logs to path (stderr if "") with secrets redacted, and keeps
// the last 500 records in a ring for the console's log command. On
// systemd's journal stream the lines carry their priority and no time.
func openLogger(path string, level slog.Leveler) (*slog.Logger, *logring.Ring, func(), error) {
	out, closeLog, err := openLog(path)
	if err != nil {
		return nil, nil, nil, err
	}
	replace := logring.Redact
	if path == "" && journald.Stderr(os.Getenv, os.Stderr) {
		out, replace = journald.Writer(out), journald.DropTime(replace)
	}
	ring := logring.New(500)
	log := slog.New(logring.Tee(
		slog.NewTextHandler(out, &slog.HandlerOptions{Level: level, ReplaceAttr: replace}),
		ring.Handler(level),
	))
	return log, ring, closeLog, nil
}

// openBoard opens the model's drivers.
func openBoard(model board.Model, log *slog.Logger) (*board.Set, error) {
	set, err := board.Open(model, board.Opts{Logger: log})
	if err != nil {
		return nil, err
	}
	log.Info("board open", "model", model.Name, "display", set.Display.String())
	return set, nil
}

// hardware is what the agent drives. With a console, the devices go
// through a tap the console's hardware checks borrow them from.
func hardware(model board.Model, set *board.Set, withConsole bool) (agent.Hardware, *console.Tap) {
	var ifaces []string
	for _, n := range model.Network {
		ifaces = append(ifaces, n.Name)
	}
	hw := agent.Hardware{
		Model:     model.Name,
		Keypad:    set.Keypad,
		Display:   set.Display,
		Badges:    set.Badges,
		Finger:    set.Finger,
		Indicator: set.Indicator,
		Network:   ifaces,
		WiFi:      wifiIfaces(model),
	}
	if !withConsole {
		return hw, nil
	}
	tap := console.NewTap()
	return hw.Tapped(tap), tap
}

func simSocketPath(fc fileConfig) string {
	if fc.SimSocket != "" {
		return fc.SimSocket
	}
	return filepath.Join(fc.StateDir, "sim.sock")
}

// startSim serves the simulated board's control socket and, on a
// terminal, draws the clock's face; leaving the face stops the clock.
func startSim(g *group, s *sim.Board, a *agent.Agent, path string, tui bool, log *slog.Logger) error {
	s.SetStatus(func() map[string]any { return a.Status().Map() })
	return serveSim(g, s, path, tui, log)
}

// serveSim serves the board's control socket at path and, on a terminal,
// draws the clock's face; leaving the face stops the clock.
func serveSim(g *group, s *sim.Board, path string, tui bool, log *slog.Logger) error {
	ln, err := sim.Listen(path)
	if err != nil {
		return err
	}
	log.Info("sim control socket", "path", path)
	g.goErr(func(ctx context.Context) error {
		defer os.Remove(path)
		return s.Serve(ctx, ln)
	})
	if tui {
		g.goStop(func(ctx context.Context) error {
			if err := s.RunTUI(ctx, os.Stdin); !errors.Is(err, sim.ErrQuit) {
				return err
			}
			return nil
		})
	}
	return nil
}

// group owns the clock's long-running goroutines: the first error stops
// them all, and wait returns it once every one has returned.
type group struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errc   chan error
}

func newGroup(ctx context.Context, cancel context.CancelFunc) *group {
	return &group{ctx: ctx, cancel: cancel, errc: make(chan error, 4)}
}

// goErr runs f; an error from it stops the clock.
func (g *group) goErr(f func(context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(g.ctx); err != nil {
			g.fail(err)
		}
	}()
}

// goStop runs f; its return, error or not, stops the clock.
func (g *group) goStop(f func(context.Context) error) {
	g.goErr(func(ctx context.Context) error {
		defer g.cancel()
		return f(ctx)
	})
}

func (g *group) fail(err error) {
	select {
	case g.errc <- err:
	default: // the first error is the one run returns
	}
	g.cancel()
}

// wait waits for the clock to stop and every goroutine to return.
func (g *group) wait() error {
	<-g.ctx.Done()
	g.wg.Wait()
	select {
	case err := <-g.errc:
		return err
	default:
		return nil
	}
}

func openLog(path string) (io.Writer, func(), error) {
	if path == "" {
		return os.Stderr, func() {}, nil
	}
	// The log may live in a --state-dir not made yet (the first start).
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// limitMemory sets the Go runtime's soft memory limit to mib MiB (0: none)
// unless GOMEMLIMIT is set, which the runtime has applied already and an
// operator's environment should win. It returns the limit set (0: none).
func limitMemory(mib int, getenv func(string) string) int64 {
	if mib <= 0 || getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := int64(mib) << 20
	debug.SetMemoryLimit(limit)
	return limit
}
