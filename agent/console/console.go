// Package console is the clock's serial console for technicians: a login
// with the per-device technician passcode, a line editor, and commands to
// diagnose the clock in the field (status, time, netcheck, punches, sync,
// log, config show, hardware checks, reboot, factory-reset, onboard).
//
// The console runs in its own goroutines and never blocks the punch flow.
// It talks to one port, opened through Options.Open (cmd/timeclockd opens a
// serial device with go.bug.st/serial, or stdin/stdout); when the port
// vanishes (a USB adapter unplugged) it is reopened with backoff, and the
// technician logs in again. It depends on the clock only through the small
// interfaces in agent.go.
//
// Its parts, one file each: the session (session.go) with its line editor
// (editor.go) and port pump (pump.go), the passcode hashes (passcode.go;
// cmd/timeclockd --hash-passcode uses HashPasscode), the login lockout
// (lockout.go), the command table (commands.go, cmds_*.go), and the Tap
// (tap.go) through which cmd/timeclockd wraps the board's devices so the
// hardware checks can borrow them.
package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"timeclock/agent/logring"
	"timeclock/clock"
)

// Config is the console's configuration; cmd/timeclockd fills it from the
// config file (console_* keys).
type Config struct {
	// Speed, Parity ("none", "even", "odd"), DataBits and StopBits set the
	// serial line; the default is 115200 8N1.
	Speed    int
	Parity   string
	DataBits int
	StopBits int
	// IdleLogout ends a session after this long without input.
	IdleLogout time.Duration
	// LockoutBase is the first lock after five wrong passcodes; each
	// further wrong passcode doubles it, up to LockoutMax.
	LockoutBase time.Duration
	LockoutMax  time.Duration
	// PasscodeHash is a passcode hash from the config file (make one with
	// timeclockd --hash-passcode). The hash set at activation wins over it.
	PasscodeHash string
	// NoLogin opens sessions without a passcode. Development only:
	// timeclockd allows it on the simulated board alone.
	NoLogin bool
}

// DefaultConfig returns 115200 8N1, a 5 minute idle logout and a 30 second
// first lockout growing to 15 minutes.
func DefaultConfig() Config {
	return Config{
		Speed: 115200, Parity: "none", DataBits: 8, StopBits: 1,
		IdleLogout:  5 * time.Minute,
		LockoutBase: 30 * time.Second,
		LockoutMax:  15 * time.Minute,
	}
}

// Validate checks the config and names the wrong field.
func (c Config) Validate() error {
	var errs []error
	if c.Speed < 50 || c.Speed > 4000000 {
		errs = append(errs, fmt.Errorf("console_speed: %d out of range (50-4000000, usually 115200)", c.Speed))
	}
	switch c.Parity {
	case "none", "even", "odd":
	default:
		errs = append(errs, fmt.Errorf("console_parity: %q; want none, even or odd", c.Parity))
	}
	if c.DataBits != 7 && c.DataBits != 8 {
		errs = append(errs, fmt.Errorf("console_data_bits: %d; want 7 or 8", c.DataBits))
	}
	if c.StopBits != 1 && c.StopBits != 2 {
		errs = append(errs, fmt.Errorf("console_stop_bits: %d; want 1 or 2", c.StopBits))
	}
	if c.IdleLogout < 10*time.Second || c.IdleLogout > 24*time.Hour {
		errs = append(errs, fmt.Errorf("console_idle_logout: %v out of range (10s-24h)", c.IdleLogout))
	}
	if c.LockoutBase < time.Second || c.LockoutMax < c.LockoutBase {
		errs = append(errs, fmt.Errorf("console_lockout: %v (up to %v) out of range (at least 1s)", c.LockoutBase, c.LockoutMax))
	}
	if c.PasscodeHash != "" {
		if err := checkPasscodeHash(c.PasscodeHash); err != nil {
			errs = append(errs, fmt.Errorf("console_passcode_hash: %w", err))
		}
	}
	return errors.Join(errs...)
}

// LineMode is the line as 8N1-style text for logs and config show.
func (c Config) LineMode() string {
	return fmt.Sprintf("%d %d%c%d", c.Speed, c.DataBits, strings.ToUpper(c.Parity)[0], c.StopBits)
}

// Options are the console's dependencies.
type Options struct {
	Config Config
	// Port names the port for logs ("/dev/ttyS0", "stdio").
	Port string
	// Open opens the port. It is called again after the port fails. Reads
	// may return (0, nil) (a serial read timeout); Close must unblock a
	// pending Read; Write must return within a bounded time (a timeout
	// error means the other end is not reading).
	Open func(ctx context.Context) (io.ReadWriteCloser, error)
	// Agent is the running clock.
	Agent Agent
	// Bench lends the devices to "hw"; nil leaves the hardware checks out.
	Bench *Tap
	// Logs is the log ring for "log"; nil leaves it out.
	Logs   *logring.Ring
	Logger *slog.Logger
	Clock  clock.Clock
}

// Port reopening backoff.
const (
	reopenMin = 100 * time.Millisecond
	reopenMax = 5 * time.Second
)

// Console serves technicians on one port. Its lockout survives the port
// going away and coming back.
type Console struct {
	cfg   Config
	port  string
	open  func(context.Context) (io.ReadWriteCloser, error)
	agent Agent
	bench *Tap
	logs  *logring.Ring
	log   *slog.Logger
	clk   clock.Clock

	lock lockout // used by the one session running at a time
}

// New checks the options and returns a console ready to Run.
func New(o Options) (*Console, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if o.Open == nil || o.Agent == nil {
		return nil, errors.New("console: Open and Agent are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	return &Console{
		cfg: o.Config, port: o.Port, open: o.Open, agent: o.Agent, bench: o.Bench, logs: o.Logs,
		log: o.Logger.With("port", o.Port), clk: o.Clock,
		lock: lockout{base: o.Config.LockoutBase, max: o.Config.LockoutMax},
	}, nil
}

// Run serves the port until ctx is done, reopening it with backoff when it
// fails. An outage is logged once when it starts and once when it ends,
// not on every retry: the port counts as back only once bytes move. Run
// returns nil on a clean shutdown.
func (c *Console) Run(ctx context.Context) error {
	c.log.Info("console starting", "line", c.cfg.LineMode())
	backoff := reopenMin
	var down bool // an outage has been logged and has not ended
	var downSince time.Time
	for {
		rw, err := c.open(ctx)
		if ctx.Err() != nil {
			if err == nil {
				rw.Close()
			}
			return nil
		}
		if err == nil {
			var up atomic.Bool
			wasDown, since := down, downSince
			err = c.serve(ctx, rw, func() {
				up.Store(true)
				if wasDown {
					c.log.Info("console port back", "down_for", c.clk.Now().Sub(since).Round(time.Millisecond).String())
				} else {
					c.log.Info("console port open")
				}
			})
			if ctx.Err() != nil {
				return nil
			}
			if up.Load() {
				down, downSince, backoff = true, c.clk.Now(), reopenMin
				c.log.Warn("console port lost; reopening", "err", err)
			}
		}
		if !down {
			down, downSince = true, c.clk.Now()
			c.log.Warn("console port unavailable; retrying", "err", err)
		}
		if !c.sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, reopenMax)
	}
}

func (c *Console) sleep(ctx context.Context, d time.Duration) bool {
	t := c.clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

// serve runs one session on an open port until the port fails or ctx is
// done; it closes the port. up is called once, when bytes first move.
func (c *Console) serve(ctx context.Context, rw io.ReadWriteCloser, up func()) error {
	p := startPump(rw, c.log, up)
	defer p.Stop()
	s := newSession(c, p)
	return s.run(ctx)
}
