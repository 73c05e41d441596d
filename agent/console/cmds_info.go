package console

import (
	"fmt"

	"timeclock/agent/logring"
)

func printFields(cl *call, fs []Field) {
	for _, f := range fs {
		cl.printf("%s=%s\n", f.Key, f.Value)
	}
}

func cmdStatus(cl *call) error {
	printFields(cl, cl.c.agent.Status())
	return nil
}

func cmdTime(cl *call) error {
	printFields(cl, cl.c.agent.Time())
	return nil
}

func cmdNetcheck(cl *call) error { return cl.c.agent.NetCheck(cl.ctx, cl.out) }

func cmdSync(cl *call) error { return cl.c.agent.Sync(cl.ctx, cl.out) }

// maxPunches bounds one listing.
const maxPunches = 1000

func cmdPunches(cl *call) error {
	which := PunchList(cl.args[0])
	n, err := cl.count(1, 20, maxPunches)
	if err != nil {
		return err
	}
	lines, err := cl.c.agent.Punches(cl.ctx, which, n)
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		if which == Pending {
			cl.printf("No pending punches: the cloud has acknowledged every punch.\n")
		} else {
			cl.printf("No punches yet.\n")
		}
		return nil
	}
	for _, l := range lines {
		cl.printf("%s\n", l)
	}
	if which == Pending {
		if total, err := cl.c.agent.PendingPunches(); err == nil && total > len(lines) {
			cl.printf("(%d of %d pending shown)\n", len(lines), total)
		}
	}
	return nil
}

func cmdLog(cl *call) error {
	if cl.c.logs == nil {
		return Missing("the log ring")
	}
	n, err := cl.count(0, 20, cl.c.logs.Cap())
	if err != nil {
		return err
	}
	for _, l := range cl.c.logs.Tail(n) {
		cl.printf("%s\n", l)
	}
	return nil
}

func cmdConfig(cl *call) error {
	for _, f := range cl.c.agent.Config() {
		if logring.IsSecretKey(f.Key) { // the agent leaves secrets out; this makes sure
			f.Value = logring.Redacted
		}
		cl.printf("%s=%s\n", f.Key, f.Value)
	}
	cfg := cl.c.cfg
	cl.printf("console=%s\n", cl.c.port)
	cl.printf("console_line=%s\n", cfg.LineMode())
	cl.printf("console_idle_logout=%s\n", short(cfg.IdleLogout))
	cl.printf("console_lockout=%s (up to %s)\n", short(cfg.LockoutBase), short(cfg.LockoutMax))
	login := "closed: no passcode set"
	switch _, source := cl.c.passcodeHash(); {
	case cfg.NoLogin:
		login = "off (--console-no-login, development only)"
	case source != "":
		login = fmt.Sprintf("passcode set (from the %s)", source)
	}
	cl.printf("console_login=%s\n", login)
	return nil
}
