package main

import (
	"flag"
	"log/slog"
	"time"

	"timeclock/internal/cli"
)

// flags are the command line; empty strings mean "not given".
type flags struct {
	version    bool
	board      string
	boardFile  string
	stateDir   string
	config     string
	cloud      string
	cloudCA    string
	cloudPorts string
	rosterFile string
	simSocket  string
	console    string
	logLevel   string
	logFile    string
	level      slog.Level
	rebootExit int
	set        map[string]bool // flags given explicitly

	updateCheck    bool // the service's ExecStartPre: decide an update trial, exit
	updateStopped  bool // the service's ExecStopPost: record how a trial run ended, exit
	updateRescue   bool // the rescue unit (OnFailure=): roll a failed trial back, exit 0, or 3 without one
	hashPasscode   bool // print a console passcode hash and exit
	consoleNoLogin bool // open console sessions without a passcode (sim only)

	outOfService bool          // systemd gave up on the agent: the out-of-service screen until retryIn has passed (outofservice.go)
	retryIn      time.Duration // how long --out-of-service shows before the agent is tried again
}

func parseFlags(args []string) (*flags, error) {
	var f flags
	fs := flag.NewFlagSet("timeclockd", flag.ContinueOnError)
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.StringVar(&f.board, "board", "sim", "clock model to run on (see --board list)")
	fs.StringVar(&f.boardFile, "board-file", "", "JSON file of extra or replacement board definitions")
	fs.StringVar(&f.stateDir, "state-dir", "", "directory for durable state (default /var/lib/timeclock)")
	fs.StringVar(&f.config, "config", "", "JSON config file; flags given override it")
	fs.StringVar(&f.cloud, "cloud", "", "the cloud's HTTPS base URL; none runs the clock standalone")
	fs.StringVar(&f.cloudCA, "cloud-ca", "", "PEM file with the CA to trust for the cloud")
	fs.StringVar(&f.cloudPorts, "cloud-ports", "80,443,59777,59778", "the cloud's HTTP,HTTPS,MQTT,MQTT-WS ports for the network check (a port in --cloud wins for HTTPS)")
	fs.StringVar(&f.rosterFile, "roster-file", "", "JSON roster to import at start")
	fs.StringVar(&f.simSocket, "sim-socket", "", "sim board control socket (default STATE_DIR/sim.sock)")
	fs.StringVar(&f.console, "console", "", "serial console device, or stdio")
	fs.BoolVar(&f.hashPasscode, "hash-passcode", false, "read a technician passcode on stdin, print its hash for console_passcode_hash, and exit")
	fs.BoolVar(&f.consoleNoLogin, "console-no-login", false, "open console sessions without a passcode (development, sim board only)")
	fs.BoolVar(&f.updateCheck, "update-check", false, "before a start (the unit's ExecStartPre): count an update trial's start or roll it back, then exit")
	fs.BoolVar(&f.updateStopped, "update-stopped", false, "after a stop (the unit's ExecStopPost): record how an update trial's run ended (SERVICE_RESULT, EXIT_CODE, EXIT_STATUS), then exit")
	fs.BoolVar(&f.updateRescue, "update-rescue", false, "when systemd gave up on the service (its OnFailure= unit): roll an update trial back and exit 0, or exit 3 when there was none")
	fs.BoolVar(&f.outOfService, "out-of-service", false, "when systemd gave up on the agent (timeclockd-fault.service): show the out-of-service screen and refuse every punch, record nothing, and exit with status 12 once --retry-in has passed")
	fs.DurationVar(&f.retryIn, "retry-in", 5*time.Minute, "with --out-of-service: how long until the agent is tried again")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.IntVar(&f.rebootExit, "reboot-exit", 0, "on a reboot request, exit with this status (1-254) instead of rebooting: the service manager reboots (timeclockd.service uses 10)")
	fs.StringVar(&f.logFile, "log-file", "", "log to this file (default stderr; STATE_DIR/timeclockd.log while the sim TUI or a stdio console has the terminal)")
	set, err := cli.Parse(fs, "usage: timeclockd [flags]\n", args)
	if err != nil {
		return nil, err
	}
	if f.level, err = cli.Level(fs.Name(), f.logLevel); err != nil {
		return nil, err
	}
	if f.rebootExit < 0 || f.rebootExit == 1 || f.rebootExit > 254 {
		return nil, &cli.UsageError{Cmd: fs.Name(), Msg: "--reboot-exit: a status from 2 to 254 (0: reboot by itself)"}
	}
	if f.retryIn < time.Second || f.retryIn > 24*time.Hour {
		return nil, &cli.UsageError{Cmd: fs.Name(), Msg: "--retry-in: from 1s to 24h"}
	}
	if f.set = set; set["retry-in"] && !f.outOfService {
		return nil, &cli.UsageError{Cmd: fs.Name(), Msg: "--retry-in is for --out-of-service"}
	}
	return &f, nil
}
