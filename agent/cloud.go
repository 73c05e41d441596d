package agent

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"timeclock/agent/cloudsync"
	"timeclock/agent/fingers"
	"timeclock/agent/journal"
	"timeclock/agent/roster"
	"timeclock/agent/store"
	"timeclock/onboarding/identity"
	"timeclock/wire"
)

// This file runs the cloud sync beside the punch loop and is the clock as
// the sync sees it (cloudsync.Device).

// syncConfig is the sync's tuning from the agent's config.
func (c Config) syncConfig() cloudsync.Config {
	sc := cloudsync.DefaultConfig()
	sc.BackoffMin, sc.BackoffMax = c.SyncBackoffMin.D(), c.SyncBackoffMax.D()
	sc.ConnectTimeout = c.SyncConnectTimeout.D()
	sc.CheckinEvery = c.CheckinInterval.D()
	return sc
}

// startSync runs the sync when the clock has an identity and is not
// disabled; it stops with ctx, and wg waits for it.
func (a *Agent) startSync(ctx context.Context, wg *sync.WaitGroup, st *store.Store, j *journal.Journal, ros *roster.Keeper, fk *fingers.Keeper) {
	id := a.Identity()
	if id == nil || a.phaseNow() == phaseDisabled {
		return
	}
	var resume *wire.Command
	if r, ok := loadDisable(st); ok && r.Phase == phaseDisabling {
		resume = r.Command()
	}
	var bio cloudsync.Biometrics
	if a.enroller() != nil {
		bio = &syncBiometrics{a: a, fk: fk}
	}
	s, err := cloudsync.New(cloudsync.Options{
		Biometrics: bio,
		Config:     a.cfg.syncConfig(),
		Identity:   id,
		Journal:    j,
		Roster:     ros,
		Store:      st,
		Device:     &syncDevice{a: a, st: st},
		Punched:    a.punched,
		Disabling:  resume,
		Reboot:     a.reboot,
		Clock:      a.clk,
		Rand:       a.rand,
		Logger:     a.log.With("component", "sync"),
		Dial:       a.onboardOpts.DialContext(),
		Time:       a.keeper,
	})
	if err != nil {
		a.log.Error("cloud sync not started", "err", err)
		return
	}
	a.syncer.Store(s)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer a.syncer.Store(nil)
		if err := s.Run(ctx); err != nil && !errors.Is(err, cloudsync.ErrDisabled) {
			a.log.Error("cloud sync stopped", "err", err)
		}
	}()
}

// reboot is the System's reboot, or nil when the agent has none.
func (a *Agent) reboot() error {
	if a.sys == nil {
		return errors.New("no system to reboot")
	}
	return a.sys.Reboot()
}

// notifyPunch tells the sync a punch is in the journal. It never blocks:
// one signal waiting is enough for any number of punches.
func (a *Agent) notifyPunch() {
	select {
	case a.punched <- struct{}{}:
	default:
	}
}

// refresh asks the punch loop to redraw (connection, pending or a notice
// changed).
func (a *Agent) refresh() {
	select {
	case a.redraw <- struct{}{}:
	default:
	}
}

// SyncNow connects to the cloud now if the clock is offline and waits
// until nothing is pending (the console's sync).
func (a *Agent) SyncNow(ctx context.Context) error {
	s := a.syncer.Load()
	if s == nil {
		return errors.New("the cloud sync is not running")
	}
	return s.SyncNow(ctx)
}

// syncDevice is the agent as the sync sees it.
type syncDevice struct {
	a  *Agent
	st *store.Store // the disable record
}

var _ cloudsync.Device = (*syncDevice)(nil)

func (s *syncDevice) Facts() cloudsync.Facts {
	a := s.a
	f := cloudsync.Facts{Model: a.hw.Model, Firmware: a.cfg.Version, Interface: a.networkIface(), NTPSynced: a.ntpSynced()}
	if id := a.Identity(); id != nil {
		f.Nickname = id.Nickname
	}
	if s.st != nil && s.st.Recovered() {
		if n, ok := s.st.Notice(); ok {
			f.Storage = n.Summary()
		}
	}
	return f
}

func (s *syncDevice) Rename(nickname string) error {
	if err := s.a.ids.Update(func(id *identity.Identity) { id.Nickname = nickname }); err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	s.a.log.Info("renamed by the cloud", "nickname", nickname)
	return nil
}

func (s *syncDevice) SetTimezone(tz string) error {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" {
		return fmt.Errorf("timezone %q: not a zone this clock knows", tz)
	}
	if err := s.a.ids.Update(func(id *identity.Identity) { id.Timezone = tz }); err != nil {
		return fmt.Errorf("timezone: %w", err)
	}
	from := s.a.location()
	s.a.loc.Store(loc)
	s.a.log.Info(fmt.Sprintf("timezone %s -> %s (cloud)", from, loc), "from", from.String(), "to", loc.String())
	s.a.refresh()
	return nil
}

func (s *syncDevice) BeginDisable(cmd wire.Command) error {
	if err := s.a.setPhase(s.st, beginDisable(cmd, s.a.clk.Now().UTC()), "disabled by "+orSomeone(cmd.By)); err != nil {
		return err
	}
	s.a.refresh() // the punch loop sees the phase and refuses punches
	return nil
}

func (s *syncDevice) FinishDisable(finalSeq uint64) error {
	r, _ := loadDisable(s.st)
	r.Phase, r.FinalSeq, r.At = phaseDisabled, finalSeq, s.a.clk.Now().UTC()
	// The record first: if the erase is cut short, the next start sees
	// "disabled" with an identity left, and erases it then.
	if err := s.a.setPhase(s.st, &r, "last transmission acknowledged"); err != nil {
		return err
	}
	err := s.a.EraseIdentity()
	s.a.refresh() // the F4 hint appears
	return err
}

func (s *syncDevice) Changed() { s.a.refresh() }

func orSomeone(by string) string {
	if by == "" {
		return "the administrator"
	}
	return by
}

// newRand is the sync's backoff randomness.
func newRand() cloudsync.Rand { return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) }
