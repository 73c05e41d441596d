package console

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// command is one row of the command table.
type command struct {
	name    string
	aliases []string
	usage   string // arguments, as help shows them
	help    string
	detail  string   // more for "help COMMAND"
	subs    []string // when set, the first argument must be one of these
	minArgs int
	maxArgs int
	run     func(*call) error
}

// commands is the console's command table; help lists it in this order.
var commands []command

func init() {
	commands = []command{
		{name: "help", usage: "[COMMAND]", help: "this list, or how to use one command", maxArgs: 1, run: cmdHelp},
		{name: "status", help: "the clock's status as key=value lines", run: cmdStatus},
		{name: "time", usage: "[set TIME|zone ZONE]", help: "time, zone, synced; set them on a standalone clock", subs: []string{"set", "zone"}, maxArgs: 2, run: cmdTime,
			detail: "time shows local time, zone, UTC, whether the clock is synced, its time source and floor. time set 2026-12-02T09:30 (local time in the clock's zone; seconds and a Z or offset are allowed) sets the clock of a standalone clock (no cloud), asking first; the log records the old and new time. time zone America/Chicago sets a standalone clock's zone; a clock with a cloud takes both from the cloud."},
		{name: "netcheck", help: "check link, address, route, DNS, ports, TLS", run: cmdNetcheck,
			detail: "Runs the LAN-first network check and reports each step; Ctrl-C stops it."},
		{name: "punches", usage: "pending|recent [N]", help: "pending or most recent punches (N: 20)", subs: []string{"pending", "recent"}, minArgs: 1, maxArgs: 2, run: cmdPunches,
			detail: "pending lists the punches the cloud has not acknowledged, oldest first; recent lists the last N punches, newest first."},
		{name: "sync", help: "send pending punches to the cloud now", run: cmdSync},
		{name: "log", usage: "[N]", help: "last N log lines (20), secrets redacted", maxArgs: 1, run: cmdLog},
		{name: "config", usage: "show", help: "the configuration, secrets left out", subs: []string{"show"}, minArgs: 1, maxArgs: 1, run: cmdConfig},
		{name: "hw", usage: "keypad|badge|display|leds", help: "hardware checks (no punches meanwhile)", subs: []string{"keypad", "badge", "display", "leds"}, minArgs: 1, maxArgs: 1, run: cmdHW,
			detail: "keypad echoes key presses and badge shows badge reads (format, bits, parity) until Ctrl-C; display steps through test patterns and leds through the LEDs and buzzer, Enter for the next step. The clock's screen comes back afterwards."},
		{name: "reboot", help: "restart the clock (asks first)", run: cmdReboot},
		{name: "factory-reset", usage: "[force]", help: "erase all state, restart (asks first)", subs: []string{"force"}, maxArgs: 1, run: cmdFactoryReset,
			detail: "Erases the punch journal, the roster and the clock's identity, then restarts; a clock with a cloud configured starts onboarding. Refuses while punches are pending (not yet acknowledged by the cloud) unless run as factory-reset force."},
		{name: "onboard", help: "start onboarding again (asks first)", run: cmdOnboard},
		{name: "storage", usage: "[ack]", help: "state file health; ack clears its notice", subs: []string{"ack"}, maxArgs: 1, run: cmdStorage,
			detail: "storage shows the state file as key=value lines: its path, whether a damaged file was set aside (recovered=true: the clock's screen says \"Storage recovered, call service\"), the damaged files kept in the state directory with their sizes, pending punches, capacity and fill. storage ack asks, then takes the notice off the clock's screen; the damaged files stay for service."},
		{name: "update", usage: "status", help: "update slots, versions, the last update's outcome", subs: []string{"status"}, minArgs: 1, maxArgs: 1, run: cmdUpdate,
			detail: "update status shows the A/B slots (which one runs, the version each holds), the last update (release, version, phase: downloading, installing, trial, committed, rolled-back, refused or failed) and its reason, the trial's starts and deadline, and the version floor (docs/updates.md)."},
		{name: "logout", aliases: []string{"exit", "quit"}, help: "end the session", run: func(*call) error { return errLogout }},
	}
}

// names lists the commands on lines of at most 76 columns, indented.
func names() string {
	var sb strings.Builder
	col := 0
	for _, c := range commands {
		if col > 0 && col+1+len(c.name) > 76 {
			sb.WriteString("\n")
			col = 0
		}
		if col == 0 {
			sb.WriteString("  ")
			col = 2
		} else {
			sb.WriteString(" ")
			col++
		}
		sb.WriteString(c.name)
		col += len(c.name)
	}
	return sb.String()
}

func lookup(name string) *command {
	name = strings.ToLower(name)
	for i := range commands {
		c := &commands[i]
		if c.name == name {
			return c
		}
		for _, a := range c.aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// parse splits a command line into its command and arguments and checks
// them against the table. Errors are written for the technician.
func parse(line string) (*command, []string, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil, nil, fmt.Errorf("empty command; type help for the list")
	}
	c := lookup(f[0])
	if c == nil {
		return nil, nil, fmt.Errorf("unknown command %q (type help for what each does); commands:\n%s", clip(f[0], 32), names())
	}
	args := f[1:]
	if len(args) < c.minArgs || len(args) > c.maxArgs {
		return nil, nil, usageErr(c)
	}
	if c.subs != nil && len(args) > 0 {
		sub := strings.ToLower(args[0])
		found := false
		for _, s := range c.subs {
			found = found || s == sub
		}
		if !found {
			return nil, nil, usageErr(c)
		}
		args[0] = sub
	}
	return c, args, nil
}

func usageErr(c *command) error { return fmt.Errorf("usage: %s", usageLine(c)) }

func usageLine(c *command) string {
	if c.usage == "" {
		return c.name
	}
	return c.name + " " + c.usage
}

// clip cuts s for an error message.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// call is one command being run: its arguments, output, and the way to ask
// the technician a question.
type call struct {
	ctx  context.Context // cancelled by Ctrl-C, idle logout and the port closing
	name string
	args []string
	out  io.Writer
	c    *Console
	asks chan<- *question
}

func (cl *call) printf(format string, args ...any) { fmt.Fprintf(cl.out, format, args...) }

// ask shows a prompt and returns the line typed in answer.
func (cl *call) ask(prompt string) (string, error) {
	q := &question{prompt: prompt, reply: make(chan string, 1)}
	select {
	case cl.asks <- q:
	case <-cl.ctx.Done():
		return "", cl.ctx.Err()
	}
	select {
	case l := <-q.reply:
		return strings.TrimSpace(l), nil
	case <-cl.ctx.Done():
		return "", cl.ctx.Err()
	}
}

// confirm asks a yes/no question; only y or yes (any case) confirms.
func (cl *call) confirm(question string) (bool, error) {
	a, err := cl.ask(question + " [y/N] ")
	if err != nil {
		return false, err
	}
	a = strings.ToLower(a)
	if a == "y" || a == "yes" {
		return true, nil
	}
	cl.printf("Cancelled.\n")
	return false, nil
}

// count reads an optional count argument.
func (cl *call) count(i, def, most int) (int, error) {
	if len(cl.args) <= i {
		return def, nil
	}
	n, err := strconv.Atoi(cl.args[i])
	if err != nil || n < 1 || n > most {
		return 0, fmt.Errorf("N must be a number from 1 to %d, not %q; usage: %s", most, clip(cl.args[i], 16), usageLine(lookup(cl.name)))
	}
	return n, nil
}

func cmdHelp(cl *call) error {
	if len(cl.args) == 1 {
		c := lookup(cl.args[0])
		if c == nil {
			return fmt.Errorf("no command %q; commands:\n%s", clip(cl.args[0], 32), names())
		}
		cl.printf("usage: %s\n  %s\n", usageLine(c), c.help)
		if c.detail != "" {
			cl.printf("  %s\n", c.detail)
		}
		if len(c.aliases) > 0 {
			cl.printf("  also: %s\n", strings.Join(c.aliases, ", "))
		}
		return nil
	}
	cl.printf("Commands:\n")
	for _, c := range commands {
		cl.printf("  %-28s %s\n", usageLine(&c), c.help)
	}
	cl.printf("Keys: Backspace, Ctrl-U clears, Ctrl-C cancels, Up/Down recall earlier lines.\n")
	return nil
}
