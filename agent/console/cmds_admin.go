package console

import "fmt"

func cmdReboot(cl *call) error {
	ok, err := cl.confirm("Reboot the clock now?")
	if !ok || err != nil {
		return err
	}
	cl.c.log.Info("console: reboot requested")
	cl.printf("Rebooting.\n")
	return cl.c.agent.Reboot(cl.ctx)
}

func cmdFactoryReset(cl *call) error {
	force := len(cl.args) == 1 // parse allows only "force"
	pending, err := cl.c.agent.PendingPunches()
	switch {
	case err != nil && !force:
		return fmt.Errorf("cannot tell whether punches are pending (%w); factory-reset force erases them regardless", err)
	case pending > 0 && !force:
		return fmt.Errorf("%d %s not yet acknowledged by the cloud and would be lost. Run sync first, or factory-reset force to erase them anyway", pending, plural(pending, "punch is", "punches are"))
	case pending > 0:
		cl.printf("WARNING: %d pending %s will be lost.\n", pending, plural(pending, "punch", "punches"))
	}
	cl.printf("This erases the punch journal, the roster and the clock's identity, then restarts the clock.\n")
	a, err := cl.ask("Type yes to erase everything: ")
	if err != nil {
		return err
	}
	if a != "yes" {
		cl.printf("Cancelled; nothing was erased.\n")
		return nil
	}
	cl.c.log.Warn("console: factory reset requested", "pending_lost", pending)
	cl.printf("Factory reset: the clock restarts now.\n")
	return cl.c.agent.FactoryReset(cl.ctx)
}

func cmdOnboard(cl *call) error {
	ok, err := cl.confirm("Start onboarding again? The clock takes no punches until it is onboarded.")
	if !ok || err != nil {
		return err
	}
	if err := cl.c.agent.Onboard(cl.ctx); err != nil {
		return err
	}
	cl.c.log.Info("console: onboarding restarted")
	cl.printf("Onboarding started on the clock's screen.\n")
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
