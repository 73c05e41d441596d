package agent

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"sync"
	"time"

	"timeclock/agent/update"
	"timeclock/internal/httpc"
	"timeclock/release"
)

// This file runs the over-the-air updater beside the sync (package
// update) and is the clock as the updater sees it: healthy, and willing to
// stop for a restart only from the idle screen.

// startUpdates runs the updater while the clock has an identity and is not
// disabled. An install or a rollback ends with stop(update.ErrRestart).
func (a *Agent) startUpdates(ctx context.Context, wg *sync.WaitGroup) {
	id := a.Identity()
	if id == nil || a.phaseNow() == phaseDisabled {
		return
	}
	url, _, _ := a.cloud()
	if url == "" {
		return
	}
	var keys []ed25519.PublicKey
	for _, k := range a.cfg.UpdateKeys {
		if pk, err := release.ParsePublicKey(k); err == nil { // Validate refused bad ones
			keys = append(keys, pk)
		}
	}
	pool, err := id.CAPool()
	if err != nil {
		a.log.Error("updates off: the cloud's CA", "err", err)
		return
	}
	hc := &httpc.Client{
		// Certificates checked at the keeper's time, as the sync's are: a
		// board back at systemd's build date after a power cut still
		// downloads before its clock is set again.
		TLS:              &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{id.TLSCertificate()}, MinVersion: tls.VersionTLS12, Time: a.keeper.TLSTime},
		Dial:             a.onboardOpts.DialContext(),
		HandshakeTimeout: 15 * time.Second,
	}
	u := update.New(update.Config{
		StateDir: a.cfg.StateDir, Version: a.cfg.Version, Model: a.hw.Model, Keys: keys,
		Poll: a.cfg.UpdatePoll.D(), Retry: a.cfg.UpdateRetry.D(), Trial: a.cfg.UpdateTrial.D(), Reserve: 4 << 20,
	}, update.Deps{
		BaseURL: url, Client: hc, Clock: a.clk, Log: a.log,
		Healthy: a.Alive, Quiesce: a.stopForUpdate,
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := u.Run(ctx); err != nil && !errors.Is(err, update.ErrRestart) && ctx.Err() == nil {
			a.log.Error("updates stopped", "err", err)
		}
	}()
}

// stopForUpdate asks the punch loop to stop for a restart; it agrees only
// on the idle screen of an enabled clock, and then has stopped.
func (a *Agent) stopForUpdate() error {
	q := make(chan bool, 1)
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case a.quiesce <- q:
	case <-t.C:
		return errors.New("the punch loop did not answer")
	}
	if !<-q {
		return errors.New("a punch or a disable is under way")
	}
	return nil
}

// UpdateStatus is the update state and slots, for the console.
func (a *Agent) UpdateStatus() (update.Info, error) {
	return update.Describe(a.cfg.StateDir, a.cfg.Version)
}
