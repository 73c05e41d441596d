package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"timeclock/agent"
	"timeclock/internal/sdnotify"
)

// statusEvery is how often the STATUS= line is brought up to date; it is
// sent only when it changed.
const statusEvery = time.Second

// superviseSystemd tells systemd, when it started the clock (n is not nil),
// that the clock is ready, what it is doing, and, only while the clock's
// loops answer, that it is alive.
//
// READY=1 goes once the agent first answers a liveness probe: its mode
// loop (the punch loop, or onboarding) takes probes only from its select,
// after drawing, so the first real screen is up. WATCHDOG=1 goes every third
// of the watchdog interval, and only when a.Alive answers within a sixth
// of it: a loop stuck for a whole interval stops the pings and systemd
// kills and restarts the clock. It returns when ctx ends.
func superviseSystemd(ctx context.Context, n *sdnotify.Notifier, a *agent.Agent, log *slog.Logger) {
	if n == nil {
		return
	}
	wd := n.Watchdog()
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := a.Alive(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			break
		}
	}
	status := statusLine(a.Status())
	notify(n, log, sdnotify.Ready+"\n"+sdnotify.Status(status))
	log.Info("systemd: ready", "status", status, "watchdog", wd.String())
	defer notify(n, log, sdnotify.Stopping)

	st := time.NewTicker(statusEvery)
	defer st.Stop()
	var ping <-chan time.Time
	if wd > 0 {
		notify(n, log, sdnotify.Watchdog) // Alive just answered
		t := time.NewTicker(wd / 3)
		defer t.Stop()
		ping = t.C
	}
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-st.C:
			if s := statusLine(a.Status()); s != status && !failing {
				status = s
				notify(n, log, sdnotify.Status(s))
			}
		case <-ping:
			pctx, cancel := context.WithTimeout(ctx, wd/6)
			err := a.Alive(pctx)
			cancel()
			switch {
			case ctx.Err() != nil:
				return
			case err == nil:
				notify(n, log, sdnotify.Watchdog)
				if failing {
					failing = false
					log.Info("watchdog: the clock answers again; pings resume")
				}
			case !failing:
				failing = true
				log.Error("watchdog: pings withheld; systemd restarts the clock unless it answers again", "err", err, "watchdog", wd.String())
				notify(n, log, sdnotify.Status(status+"; NOT RESPONDING: "+err.Error()))
			}
		}
	}
}

// statusLine is the STATUS= text systemctl status shows: the state, the
// pending punches and the cloud connection ("idle, 3 pending, online").
func statusLine(s agent.Status) string {
	state := s.State.String()
	if s.Onboarding != "" {
		state += " (" + s.Onboarding + ")"
	}
	return fmt.Sprintf("%s, %d pending, %s", state, s.Pending, s.Cloud)
}

func notify(n *sdnotify.Notifier, log *slog.Logger, state string) {
	if err := n.Notify(state); err != nil {
		log.Warn("systemd notify", "err", err)
	}
}
