package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"timeclock/clock"
)

// Line and buffer limits of a session.
const (
	maxLine      = 256
	historySize  = 50
	maxTypeAhead = 1024
	promptShell  = "timeclock> "
	promptPass   = "passcode: "
)

// errLogout is how the logout command ends the session.
var errLogout = errors.New("logout")

// question is a command asking the technician for a line (a confirmation).
type question struct {
	prompt string
	reply  chan string // buffered: the session never waits on it
}

// running is the command the session is running in its own goroutine.
type running struct {
	name        string
	cancel      context.CancelFunc
	done        chan error // buffered; the command's result
	asks        chan *question
	asking      *question // the question being answered, nil if none
	interrupted bool      // Ctrl-C was pressed
}

// session is one technician's session on an open port. Its loop owns all
// of its fields; commands run in their own goroutine and talk to it through
// channels, so Ctrl-C and idle logout work while a command runs.
type session struct {
	c   *Console
	p   *pump
	ctx context.Context // the session's lifetime; command output stops with it
	ed  *lineEditor
	out []byte // echo and prompts, flushed once per loop turn

	loggedIn     bool
	idle         clock.Timer // armed while logged in
	lockT        clock.Timer // armed while locked
	cmd          *running
	typeAhead    []byte // typed while a command ran
	logoutReason string // set while a command is stopped to log out
}

func newSession(c *Console, p *pump) *session {
	return &session{c: c, p: p, ed: newLineEditor(maxLine, historySize)}
}

func (s *session) run(ctx context.Context) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	s.ctx = ctx
	defer func() {
		cancel() // command output stops, so the command cannot wait on the port
		if s.cmd != nil {
			s.cmd.cancel()
			<-s.cmd.done
		}
		if s.loggedIn {
			s.c.log.Info("console logout", "reason", "port closed")
		}
		for _, t := range []clock.Timer{s.idle, s.lockT} {
			if t != nil {
				t.Stop()
			}
		}
	}()
	s.banner()
	s.loginPrompt()
	s.flush()
	for {
		var idleC, lockC <-chan time.Time
		var asks chan *question
		var done chan error
		if s.loggedIn {
			idleC = s.idle.C()
		}
		if s.lockT != nil {
			lockC = s.lockT.C()
		}
		if s.cmd != nil {
			done = s.cmd.done
			if s.cmd.asking == nil {
				asks = s.cmd.asks
			}
		}
		select {
		case <-ctx.Done():
			s.p.Write([]byte("\r\nThe clock is stopping; console closed.\r\n"))
			return nil
		case err := <-s.p.Err():
			return err
		case data := <-s.p.In():
			if s.loggedIn {
				s.idle.Reset(s.c.cfg.IdleLogout)
			}
			s.input(data)
		case <-idleC:
			s.idleOut()
		case <-lockC:
			s.loginPrompt() // says the lock has ended
		case q := <-asks:
			s.cmd.asking = q
			s.typeAhead = nil // a confirmation is never answered by what was typed before it
			s.out = s.ed.Start(s.out, q.prompt, false)
		case err := <-done:
			s.finished(err)
		}
		s.flush()
	}
}

func (s *session) flush() {
	s.p.Write(s.out)
	s.out = s.out[:0]
}

// say adds a message (lines ending in "\n") to the output.
func (s *session) say(msg string) {
	s.out = append(s.out, terminalText([]byte(msg+"\n"))...)
}

func (s *session) prompt() { s.out = s.ed.Start(s.out, promptShell, false) }

// input handles bytes from the port.
func (s *session) input(data []byte) {
	for len(data) > 0 {
		if s.cmd != nil && s.cmd.asking == nil {
			data = s.whileRunning(data)
			continue
		}
		var ev editEvent
		var line string
		s.out, ev, line = s.ed.Feed(s.out, data[0])
		data = data[1:]
		switch ev {
		case editLine:
			s.line(line)
		case editInterrupt:
			s.interrupt()
		}
	}
}

// whileRunning takes input while a command runs: Ctrl-C stops the command
// and drops what was typed before it; the rest waits for the prompt.
func (s *session) whileRunning(data []byte) []byte {
	i := bytes.IndexByte(data, 0x03)
	if i < 0 {
		n := min(len(data), maxTypeAhead-len(s.typeAhead))
		s.typeAhead = append(s.typeAhead, data[:n]...)
		return nil
	}
	s.typeAhead = s.typeAhead[:0]
	if !s.cmd.interrupted {
		s.out = append(s.out, "^C\r\n"...)
		s.stop()
	}
	return data[i+1:]
}

func (s *session) line(line string) {
	switch {
	case s.cmd != nil: // answering a question
		q := s.cmd.asking
		s.cmd.asking = nil
		q.reply <- line
	case !s.loggedIn:
		s.loginLine(line)
	case strings.TrimSpace(line) == "":
		s.prompt()
	default:
		cmd, args, err := parse(line)
		if err != nil {
			s.say(err.Error())
			s.prompt()
			return
		}
		s.start(cmd, args)
	}
}

func (s *session) interrupt() {
	switch {
	case s.cmd != nil:
		s.cmd.asking = nil
		s.stop()
	case !s.loggedIn:
		s.loginPrompt()
	default:
		s.prompt()
	}
}

// start runs a command in its own goroutine; the session waits for it in
// finished (or when the session ends).
func (s *session) start(cmd *command, args []string) {
	ctx, cancel := context.WithCancel(s.ctx)
	r := &running{name: cmd.name, cancel: cancel, done: make(chan error, 1), asks: make(chan *question)}
	s.cmd = r
	s.flush() // the echo goes out before the command's output
	cl := &call{ctx: ctx, name: cmd.name, args: args, out: s.p.TextWriter(s.ctx), c: s.c, asks: r.asks}
	go func() { r.done <- cmd.run(cl) }()
}

// stop interrupts the running command. The echo so far goes out first, so
// "^C" comes before whatever the command says as it ends.
func (s *session) stop() {
	s.flush()
	s.cmd.interrupted = true
	s.cmd.cancel()
}

func (s *session) finished(err error) {
	r := s.cmd
	s.cmd = nil
	r.cancel()
	if errors.Is(err, errLogout) {
		s.logout("logout", "Logged out.")
		return
	}
	if reason := s.logoutReason; reason != "" {
		s.logoutReason = ""
		s.logout(reason, fmt.Sprintf("\nNo input for %s: logged out.", short(s.c.cfg.IdleLogout)))
		return
	}
	if err != nil && !(r.interrupted && errors.Is(err, context.Canceled)) {
		s.say(r.name + ": " + err.Error())
	}
	s.prompt()
	ahead := s.typeAhead
	s.typeAhead = nil
	s.input(ahead)
}

func (s *session) idleOut() {
	if s.cmd != nil { // stop it first; finished logs out
		s.logoutReason = "idle"
		s.cmd.asking = nil
		s.cmd.cancel()
		return
	}
	s.logout("idle", fmt.Sprintf("\nNo input for %s: logged out.", short(s.c.cfg.IdleLogout)))
}

func (s *session) banner() {
	var model, version string
	for _, f := range s.c.agent.Status() {
		switch f.Key {
		case "model":
			model = f.Value
		case "version":
			version = f.Value
		}
	}
	s.say(fmt.Sprintf("\ntimeclock serial console (model %s, version %s)", model, version))
}

const noPasscodeMsg = `No technician passcode is set on this clock, so the console stays closed.
The cloud sets one when the clock is activated; on a bench clock put
console_passcode_hash in the config file (make it with: timeclockd --hash-passcode).
Press Enter to check again.`

// loginPrompt shows what the console needs before a session: a passcode,
// the wait while locked, or why it cannot open.
func (s *session) loginPrompt() {
	if s.c.cfg.NoLogin {
		s.say("Console login is off (--console-no-login, for development only).")
		s.out = s.ed.Start(s.out, "Press Enter to start a session.", true)
		return
	}
	if d := s.c.lock.remaining(s.c.clk.Now()); d > 0 {
		s.locked(d)
		return
	}
	s.lockEnded()
	if hash, _ := s.c.passcodeHash(); hash == "" {
		s.say(noPasscodeMsg)
		s.out = s.ed.Start(s.out, "", true)
		return
	}
	s.out = s.ed.Start(s.out, promptPass, true)
}

// lockEnded tells the technician a lock they were shown is over, once:
// when its timer fires or when they type first (the timer may have been
// armed a moment late and not have fired yet), and disarms it.
func (s *session) lockEnded() {
	if s.lockT == nil {
		return
	}
	s.lockT.Stop()
	s.lockT = nil
	s.say("\nThe console is unlocked.")
}

func (s *session) locked(d time.Duration) {
	s.say(fmt.Sprintf("The console is locked after %d wrong passcodes; try again in %s.", s.c.lock.failures, short(d)))
	if s.lockT == nil {
		s.lockT = s.c.clk.NewTimer(d)
	} else {
		s.lockT.Reset(d)
	}
	s.out = s.ed.Start(s.out, "", true)
}

// loginLine checks a passcode. It is never echoed, kept or logged.
func (s *session) loginLine(line string) {
	if s.c.cfg.NoLogin {
		s.login("no passcode (--console-no-login)")
		return
	}
	now := s.c.clk.Now()
	if d := s.c.lock.remaining(now); d > 0 {
		s.locked(d)
		return
	}
	s.lockEnded()
	if line == "" {
		s.loginPrompt()
		return
	}
	hash, source := s.c.passcodeHash()
	if hash == "" {
		s.loginPrompt()
		return
	}
	ok, err := VerifyPasscode(hash, line)
	if err != nil {
		s.c.log.Error("console passcode hash unusable", "from", source, "err", err)
		s.say("The passcode hash from the " + source + " is not usable: " + err.Error())
		s.loginPrompt()
		return
	}
	if !ok {
		d := s.c.lock.fail(now)
		s.c.log.Warn("console login failed", "failures", s.c.lock.failures, "locked_for", d.String())
		s.say("Wrong passcode.")
		if d > 0 {
			s.locked(d)
			return
		}
		s.loginPrompt()
		return
	}
	s.c.lock.succeed()
	s.login(source)
}

func (s *session) login(source string) {
	s.loggedIn = true
	if s.idle == nil {
		s.idle = s.c.clk.NewTimer(s.c.cfg.IdleLogout)
	} else {
		s.idle.Reset(s.c.cfg.IdleLogout)
	}
	s.c.log.Info("console login", "via", source)
	s.say(fmt.Sprintf("Logged in. Type help for the commands; the session ends after %s without input.", short(s.c.cfg.IdleLogout)))
	s.prompt()
}

func (s *session) logout(reason, msg string) {
	s.loggedIn = false
	s.idle.Stop()
	s.typeAhead = nil
	s.c.log.Info("console logout", "reason", reason)
	s.say(msg)
	s.loginPrompt()
}

// passcodeHash is the hash to check against and where it came from: the
// one set at activation wins over the config file's.
func (c *Console) passcodeHash() (hash, source string) {
	h, err := c.agent.PasscodeHash()
	if err != nil && !IsMissing(err) {
		c.log.Error("console: reading the activation passcode", "err", err)
	}
	if err == nil && h != "" {
		return h, "activation"
	}
	if c.cfg.PasscodeHash != "" {
		return c.cfg.PasscodeHash, "config file"
	}
	return "", ""
}

// short writes a duration the way a person would: 30s, 2m, 2m30s, 1h.
func short(d time.Duration) string {
	d = (d + time.Second - 1).Truncate(time.Second)
	s := d.String()
	s = strings.TrimSuffix(s, "m0s")
	if strings.HasSuffix(d.String(), "m0s") {
		s += "m"
	}
	return strings.Replace(s, "h0m", "h", 1)
}
