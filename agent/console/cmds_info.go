package console

import (
	"fmt"
	"time"

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
	if len(cl.args) == 0 {
		printFields(cl, cl.c.agent.Time())
		return nil
	}
	if len(cl.args) != 2 {
		return fmt.Errorf("usage: time set 2026-12-02T09:30 | time zone America/Chicago")
	}
	if cl.args[0] == "zone" {
		if err := cl.c.agent.SetZone(cl.args[1]); err != nil {
			return err
		}
		cl.c.log.Info("console: time zone set", "zone", cl.args[1])
		cl.printf("Zone set to %s.\n", cl.args[1])
		return nil
	}
	t, err := ParseLocalTime(cl.args[1], cl.c.agent.Zone())
	if err != nil {
		return err
	}
	ok, err := cl.confirm(fmt.Sprintf("Set the clock to %s?", t.Format("Mon 2006-01-02 15:04:05 MST")))
	if !ok || err != nil {
		return err
	}
	old, err := cl.c.agent.SetTime(cl.ctx, t)
	if err != nil {
		return err
	}
	cl.printf("Clock set: was %s, now %s.\n", old.Format(time.RFC3339), t.Format(time.RFC3339))
	return nil
}

// ParseLocalTime reads the time of "time set": 2026-12-02T09:30[:05] in
// loc, or with a Z or an offset (RFC 3339).
func ParseLocalTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want 2026-12-02T09:30 (local), 2026-12-02T09:30:05 or 2026-12-02T15:30:05Z", s)
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
