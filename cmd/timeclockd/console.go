package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.bug.st/serial"
	"golang.org/x/term"

	"timeclock/agent"
	"timeclock/agent/console"
	"timeclock/agent/logring"
)

// consoleFile is the console's part of the config file; zero values keep
// the defaults (115200 8N1, 5m idle logout, 30s first lockout).
type consoleFile struct {
	ConsoleSpeed        int            `json:"console_speed,omitempty"`
	ConsoleParity       string         `json:"console_parity,omitempty"`
	ConsoleDataBits     int            `json:"console_data_bits,omitempty"`
	ConsoleStopBits     int            `json:"console_stop_bits,omitempty"`
	ConsoleIdleLogout   agent.Duration `json:"console_idle_logout,omitempty"`
	ConsoleLockout      agent.Duration `json:"console_lockout,omitempty"`
	ConsolePasscodeHash string         `json:"console_passcode_hash,omitempty"`
}

func (f consoleFile) config(noLogin bool) console.Config {
	c := console.DefaultConfig()
	set := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	set(&c.Speed, f.ConsoleSpeed)
	set(&c.DataBits, f.ConsoleDataBits)
	set(&c.StopBits, f.ConsoleStopBits)
	if f.ConsoleParity != "" {
		c.Parity = f.ConsoleParity
	}
	if f.ConsoleIdleLogout != 0 {
		c.IdleLogout = f.ConsoleIdleLogout.D()
	}
	if f.ConsoleLockout != 0 {
		c.LockoutBase = f.ConsoleLockout.D()
		c.LockoutMax = max(c.LockoutMax, c.LockoutBase)
	}
	c.PasscodeHash = f.ConsolePasscodeHash
	c.NoLogin = noLogin
	return c
}

// startConsole runs the serial console on fc.Console until ctx is done.
func startConsole(ctx context.Context, wg *sync.WaitGroup, fc fileConfig, noLogin bool, a *agent.Agent,
	tap *console.Tap, ring *logring.Ring, log *slog.Logger, sys agent.System) error {
	cfg := fc.consoleFile.config(noLogin)
	con, err := console.New(console.Options{
		Config: cfg, Port: fc.Console, Open: portOpener(fc.Console, cfg),
		Agent: a.Console(sys), Bench: tap, Logs: ring, Logger: log,
	})
	if err != nil {
		return err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		con.Run(ctx)
	}()
	return nil
}

// portOpener opens the console's port: "stdio", or a serial device.
func portOpener(dev string, cfg console.Config) func(context.Context) (io.ReadWriteCloser, error) {
	if dev == "stdio" {
		return (&stdio{}).open
	}
	parity := map[string]serial.Parity{"none": serial.NoParity, "even": serial.EvenParity, "odd": serial.OddParity}[cfg.Parity]
	stop := serial.OneStopBit
	if cfg.StopBits == 2 {
		stop = serial.TwoStopBits
	}
	mode := &serial.Mode{BaudRate: cfg.Speed, DataBits: cfg.DataBits, Parity: parity, StopBits: stop}
	return func(context.Context) (io.ReadWriteCloser, error) { return openSerial(dev, mode) }
}

// writeTimeout bounds one write of at most 512 bytes; far more than a
// working line needs even at 2400 baud.
const writeTimeout = 5 * time.Second

// serialPort is a serial console port. go.bug.st/serial sets the line up
// (speed, parity, raw mode, exclusive access) and reads; writes go through
// a second, non-blocking descriptor with a deadline, because a blocked
// write on the serial.Port cannot be interrupted (not even by Close) when
// nobody reads the other end, as on a pty whose reader stopped.
type serialPort struct {
	serial.Port
	w *os.File
}

func openSerial(dev string, mode *serial.Mode) (*serialPort, error) {
	// Opened first: serial.Open takes exclusive access to the tty.
	w, err := os.OpenFile(dev, os.O_WRONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("console %s: %w", dev, err)
	}
	p, err := serial.Open(dev, mode)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("console %s: %w", dev, err)
	}
	return &serialPort{Port: p, w: w}, nil
}

func (s *serialPort) Write(b []byte) (int, error) {
	if err := s.w.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return 0, err
	}
	return s.w.Write(b)
}

func (s *serialPort) Close() error { return errors.Join(s.w.Close(), s.Port.Close()) }

// stdio is the development console on stdin and stdout. Once stdin ends it
// does not open again.
type stdio struct {
	ended atomic.Bool
}

func (s *stdio) open(context.Context) (io.ReadWriteCloser, error) {
	if s.ended.Load() {
		return nil, errors.New("console stdio: standard input has ended")
	}
	fd := int(os.Stdin.Fd())
	restore := func() {}
	if term.IsTerminal(fd) {
		old, err := term.MakeRaw(fd)
		if err != nil {
			return nil, fmt.Errorf("console stdio: raw mode: %w", err)
		}
		restore = func() { term.Restore(fd, old) }
	}
	// A non-blocking duplicate lets Close wake a pending read; the flag is
	// shared with the parent shell, so it is put back on Close.
	dup, err := syscall.Dup(fd)
	if err == nil {
		err = syscall.SetNonblock(dup, true)
	}
	if err != nil {
		restore()
		return nil, fmt.Errorf("console stdio: %w", err)
	}
	return &stdioPort{s: s, in: os.NewFile(uintptr(dup), "stdin"), restore: func() {
		syscall.SetNonblock(fd, false)
		restore()
	}}, nil
}

type stdioPort struct {
	s       *stdio
	in      *os.File
	restore func()
	once    sync.Once
}

func (p *stdioPort) Read(b []byte) (int, error) {
	n, err := p.in.Read(b)
	if errors.Is(err, io.EOF) {
		p.s.ended.Store(true)
	}
	return n, err
}

func (p *stdioPort) Write(b []byte) (int, error) { return os.Stdout.Write(b) }

func (p *stdioPort) Close() error {
	err := p.in.Close()
	p.once.Do(p.restore)
	return err
}
