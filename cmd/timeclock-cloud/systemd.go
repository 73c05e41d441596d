package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"timeclock/cloud"
	"timeclock/internal/sdnotify"
)

// superviseSystemd tells systemd, when it started the cloud (n is not nil),
// READY=1 once every listener is up (ready delivers cloud.Run's Info), and
// WATCHDOG=1 every third of the watchdog interval while the cloud's own
// plain HTTP listener answers a request within a sixth of it: any answer
// shows its accept loop and handlers run. It returns when ctx ends.
func superviseSystemd(ctx context.Context, n *sdnotify.Notifier, ready <-chan cloud.Info, log *slog.Logger) {
	if n == nil {
		return
	}
	var info cloud.Info
	select {
	case <-ctx.Done():
		return
	case info = <-ready:
	}
	sdNotify(n, log, sdnotify.Ready+"\n"+sdnotify.Status("serving"))
	log.Info("systemd: ready", "watchdog", n.Watchdog().String())
	defer sdNotify(n, log, sdnotify.Stopping)
	wd := n.Watchdog()
	if wd <= 0 {
		<-ctx.Done()
		return
	}
	url := "http://" + loopback(info.HTTPAddr) + "/"
	client := &http.Client{Timeout: wd / 6}
	t := time.NewTicker(wd / 3)
	defer t.Stop()
	failing := false
	for {
		err := answers(ctx, client, url)
		switch {
		case ctx.Err() != nil:
			return
		case err == nil:
			sdNotify(n, log, sdnotify.Watchdog)
			if failing {
				failing = false
				log.Info("watchdog: the HTTP listener answers again; pings resume")
				sdNotify(n, log, sdnotify.Status("serving"))
			}
		case !failing:
			failing = true
			log.Error("watchdog: pings withheld; systemd restarts the cloud unless it answers again", "err", err)
			sdNotify(n, log, sdnotify.Status("NOT RESPONDING: "+err.Error()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// answers asks url for anything at all.
func answers(ctx context.Context, c *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// loopback is a listen address made dialable: an unspecified host
// (":80", "[::]:80") is the loopback.
func loopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func sdNotify(n *sdnotify.Notifier, log *slog.Logger, state string) {
	if err := n.Notify(state); err != nil {
		log.Warn("systemd notify", "err", err)
	}
}
