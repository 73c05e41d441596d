package onboarding

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"timeclock/clock"
	"timeclock/hal"
	"timeclock/internal/atomicfile"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

// Cloud is the onboarding API as the flow uses it; *Client is one.
type Cloud interface {
	Company(ctx context.Context, req wire.CompanyRequest) (wire.CompanyResponse, error)
	RequestCode(ctx context.Context, req wire.CodeRequest) (CodeAnswer, error)
	Activate(ctx context.Context, req wire.ActivateRequest) (wire.ActivateResponse, error)
}

// cloudTimer is the optional ability of a Cloud to verify TLS with the
// cloud's time while the device clock is unset.
type cloudTimer interface {
	SetCloudTime(cloud, local time.Time)
}

// Checker runs the network check; *netcheck.Checker is one.
type Checker interface {
	Run(ctx context.Context) netcheck.Report
}

// Options are the flow's dependencies.
type Options struct {
	// Keys are the keypad's presses; the agent owns the keypad and
	// forwards them.
	Keys <-chan hal.KeyEvent
	// Badges are the badge readers' swipes, which the agent forwards too.
	// A badge swiped while onboarding is no punch: Run reads and drops it,
	// so it is not taken as one after activation. May be nil.
	Badges    <-chan hal.BadgeEvent
	Display   hal.Display
	Indicator hal.Indicator // may be nil
	Clock     clock.Clock
	Logger    *slog.Logger
	Net       Checker
	// Cloud is the onboarding API; Run closes it (when it has a Close)
	// before it returns.
	Cloud Cloud
	Store *identity.Store
	// Device is the clock as the cloud sees it (serial, model, firmware).
	Device   wire.Device
	CloudURL string
	Ports    netcheck.Ports
	// StateDir keeps the progress of an unfinished onboarding.
	StateDir string
	// OnState is told every state change (the agent's status); may be nil.
	OnState func(State)
	// Zones overrides DefaultZones at the timezone confirm.
	Zones []string
	// Probes are liveness probes (the watchdog's): Run closes each one
	// from its loop, between events, so an answer proves the loop is not
	// stuck (in a display write, say). May be nil.
	Probes <-chan chan struct{}
}

// Run walks the installer through onboarding on the keypad and display and
// returns the saved identity. It returns ctx.Err() when ctx ends first; the
// progress so far is kept for the next start.
func Run(ctx context.Context, o Options) (*identity.Identity, error) {
	if c, ok := o.Cloud.(interface{ Close() }); ok {
		defer c.Close()
	}
	if o.Keys == nil || o.Display == nil || o.Net == nil || o.Cloud == nil || o.Store == nil || o.StateDir == "" {
		return nil, errors.New("onboarding: missing keys, display, network check, cloud, store or state dir")
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	if o.Badges != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dropBadges(dctx, o.Badges, o.Logger)
		}()
	}
	cols, rows := o.Display.Size()
	r := &runner{o: o, log: o.Logger, clk: o.Clock, mc: Machine{Cols: cols, Rows: rows, Ports: o.Ports, Zones: o.Zones}}
	return r.run(ctx)
}

// dropBadges reads the badges swiped until ctx ends and logs each.
func dropBadges(ctx context.Context, badges <-chan hal.BadgeEvent, log *slog.Logger) {
	for {
		select {
		case <-badges:
			log.Info("badge ignored: the clock is being onboarded")
		case <-ctx.Done():
			return
		}
	}
}

type runner struct {
	o     Options
	log   *slog.Logger
	clk   clock.Clock
	mc    Machine
	saved []byte // the progress last written
}

func (r *runner) path() string { return filepath.Join(r.o.StateDir, progressFile) }

// resume reads the progress of an earlier start; a damaged file is set
// aside with a clear message and onboarding starts over.
func (r *runner) resume() Model {
	m := Model{State: StateNetCheck, Seq: 1}
	b, err := os.ReadFile(r.path())
	if errors.Is(err, fs.ErrNotExist) {
		return m
	}
	if err == nil {
		var p progress
		if p, err = decodeProgress(b); err == nil {
			r.saved = b
			r.log.Info("onboarding resumes", "at", p.State, "company_id", p.CompanyID)
			return p.apply(m)
		}
	}
	bad := r.path() + ".bad"
	if rerr := os.Rename(r.path(), bad); rerr != nil {
		r.log.Error("onboarding progress unreadable and not set aside", "err", err, "rename_err", rerr)
	} else {
		r.log.Error("onboarding progress unreadable; set aside, starting over", "err", err, "moved_to", bad)
	}
	return m
}

// persist writes the resume point when it changed (write, fsync, rename).
func (r *runner) persist(m Model, now time.Time) {
	p := snapshot(m, now)
	var b []byte
	if p != nil {
		b, _ = json.MarshalIndent(p, "", "  ")
	}
	if bytes.Equal(b, r.saved) {
		return
	}
	var err error
	if b == nil {
		err = os.Remove(r.path())
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	} else {
		err = atomicfile.Write(r.path(), b, 0o600)
	}
	if err != nil {
		r.log.Error("onboarding progress not saved", "err", err)
		return
	}
	r.saved = b
}

func (r *runner) run(ctx context.Context) (*identity.Identity, error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel() // effects stop, then we wait for them

	results := make(chan Event)
	m := r.resume()
	r.notify(m.State)
	r.log.Info("onboarding", "state", m.State.String(), "device_serial", r.o.Device.Serial)
	started, stopEffect := 0, context.CancelFunc(nil)
	var shown []string
	timer := r.clk.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		now := r.clk.Now()
		if m.State == StateDone {
			if stopEffect != nil {
				stopEffect()
			}
			return r.finish(ctx, m)
		}
		if m.State.busy() && started != m.Seq {
			started = m.Seq
			ectx, c := context.WithCancel(ctx)
			stopEffect = c
			em := m // the loop moves on; the effect works on this step's model
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c()
				ev := r.effect(ectx, em)
				select {
				case results <- ev:
				case <-ctx.Done():
				}
			}()
		}
		r.persist(m, now)
		if scr := r.mc.Screen(m, now); !slices.Equal(scr, shown) {
			if err := r.o.Display.Show(scr); err != nil {
				r.log.Error("display", "err", err)
			}
			shown = scr
		}
		armed := false
		if at, ok := r.mc.Wake(m, now); ok {
			timer.Reset(at.Sub(now))
			armed = true
		}
		var ev Event
		probed := false
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case k := <-r.o.Keys:
			ev = KeyPress{Key: k.Key}
		case ev = <-results:
		case <-timer.C():
			ev = Tick{}
		case p := <-r.o.Probes:
			close(p)
			probed = true
		}
		if armed {
			timer.Stop()
		}
		if probed {
			continue // nothing happened
		}
		prev := m.State
		var why string
		m, why = r.mc.Next(m, ev, r.clk.Now())
		if m.State != prev {
			r.log.Info(fmt.Sprintf("onboarding %s -> %s (%s)", prev, m.State, why), "from", prev.String(), "to", m.State.String(), "reason", why)
			r.notify(m.State)
			r.signal(ctx, m.State)
		}
		if stopEffect != nil && (!m.State.busy() || m.Seq != started) {
			stopEffect() // a canceled lookup or request: its answer no longer matters
			stopEffect = nil
		}
	}
}

func (r *runner) notify(s State) {
	if r.o.OnState != nil {
		r.o.OnState(s)
	}
}

// signal sounds the buzzer on a problem screen.
func (r *runner) signal(ctx context.Context, s State) {
	if r.o.Indicator == nil {
		return
	}
	switch s {
	case StateNetProblem, StateLANAdvice, StateProblem:
		if err := r.o.Indicator.Beep(ctx, hal.PatternError); err != nil && ctx.Err() == nil {
			r.log.Warn("buzzer", "err", err)
		}
	}
}

// effect performs the side effect of a busy state and returns its result.
func (r *runner) effect(ctx context.Context, m Model) Event {
	switch m.State {
	case StateNetCheck:
		rep := r.o.Net.Run(ctx)
		for _, s := range rep.Steps {
			r.log.Info("network check", "step", string(s.Step), "outcome", string(s.Outcome), "detail", s.Detail, "iface", rep.Iface)
		}
		if cl, ok := r.o.Cloud.(cloudTimer); ok {
			if _, known := rep.ClockOffset(); known {
				cl.SetCloudTime(rep.CloudTime, rep.LocalTime)
			}
		}
		return NetChecked{Seq: m.Seq, Report: rep}
	case StateCompanyLookup:
		c, err := r.o.Cloud.Company(ctx, wire.CompanyRequest{CompanyID: m.CompanyID, Device: r.o.Device})
		return CompanyFound{Seq: m.Seq, Company: c, Err: err}
	case StateCodeRequest:
		req := wire.CodeRequest{CompanyID: m.Company.CompanyID, Device: r.o.Device}
		if m.Resend {
			req.Resend, req.SessionID = true, m.Session.ID
		}
		s, err := r.o.Cloud.RequestCode(ctx, req)
		return CodeSent{Seq: m.Seq, Sent: s, Err: err}
	case StateActivating:
		id, err := r.activate(ctx, m)
		return Activated{Seq: m.Seq, Identity: id, Err: err}
	}
	return nil
}

// activate makes (or reuses) the device key, sends the CSR with the code,
// and saves the identity the cloud returns. The passcode is hashed here and
// goes nowhere else.
func (r *runner) activate(ctx context.Context, m Model) (*identity.Identity, error) {
	key, err := r.o.Store.Key()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSave, err)
	}
	csr, err := identity.NewCSR(key, r.o.Device.Serial)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSave, err)
	}
	resp, err := r.o.Cloud.Activate(ctx, wire.ActivateRequest{SessionID: m.Session.ID, Code: m.Code, CSR: string(csr), Device: r.o.Device})
	if err != nil {
		return nil, err
	}
	cert, err := identity.ParseCertificate([]byte(resp.Certificate))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	hash, err := identity.HashPasscode(resp.TechnicianPasscode)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSave, err)
	}
	id := &identity.Identity{
		DeviceID: resp.DeviceID, Serial: r.o.Device.Serial, CompanyID: m.Company.CompanyID, CompanyName: m.Company.Name,
		CloudURL: r.o.CloudURL, MQTT: resp.MQTT, Timezone: resp.Timezone, Nickname: resp.Nickname,
		ActivatedAt: resp.ActivatedAt, PasscodeHash: hash,
		Key: key, Cert: cert, CertPEM: []byte(resp.Certificate), CAPEM: []byte(resp.CA),
	}
	// A certificate for another key or device is the cloud's mistake, not
	// the clock's storage.
	if err := id.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	if err := r.o.Store.Save(id); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSave, err)
	}
	r.log.Info("activated", "identity", id)
	return id, nil
}

// finish keeps the confirmed timezone and forgets the progress.
func (r *runner) finish(ctx context.Context, m Model) (*identity.Identity, error) {
	id := m.Identity
	if zone := m.Zones[m.ZoneIdx]; zone != id.Timezone {
		id.Timezone = zone
		if err := r.o.Store.Save(id); err != nil {
			r.log.Error("timezone not saved; the company's zone stays on disk", "zone", zone, "err", err)
		}
	}
	if err := os.Remove(r.path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		r.log.Warn("onboarding progress not removed", "err", err)
	}
	if r.o.Indicator != nil {
		if err := r.o.Indicator.Beep(ctx, hal.PatternOK); err != nil && ctx.Err() == nil {
			r.log.Warn("buzzer", "err", err)
		}
	}
	r.log.Info("onboarding done", "device_id", id.DeviceID, "nickname", id.Nickname, "timezone", id.Timezone)
	return id, nil
}
