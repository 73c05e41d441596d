package agent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"sync"
	"time"

	"timeclock/agent/disable"
	"timeclock/hal"
	"timeclock/onboarding"
	"timeclock/onboarding/cloudapi"
	"timeclock/onboarding/identity"
	"timeclock/onboarding/netcheck"
	"timeclock/wire"
)

// OnboardOptions are the system facts onboarding needs; cmd/timeclockd
// picks them for the board.
type OnboardOptions struct {
	// Links reads the network interfaces for the check. Nil means a
	// simulated board without interfaces of its own: the link, address and
	// route steps are skipped; DNS, the ports and TLS are checked for real.
	Links netcheck.Links
	// Net resolves and dials; nil is the system's.
	Net netcheck.Net
	// Serial returns the device serial; nil generates one, kept in
	// STATE_DIR (right for a simulated board).
	Serial func() (string, error)
	// NetTimeouts bound the check's steps; zero fields take the defaults.
	NetTimeouts netcheck.Timeouts
	// CloudTimeout bounds each API request; zero is 20 s.
	CloudTimeout time.Duration
}

// onboarder holds the clock's identity for the status, the sync (erase on
// disable) and the console (technician passcode).
type onboarder struct {
	opts      OnboardOptions
	storeOnce sync.Once
	store     *identity.Store

	mu   sync.Mutex
	id   *identity.Identity // guarded by mu; nil until onboarded
	step string             // guarded by mu; the onboarding state while onboarding
}

func (o *onboarder) fill(s *Status) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s.Onboarding = o.step
	if o.id == nil {
		return
	}
	s.DeviceID, s.Nickname, s.Timezone = o.id.DeviceID, o.id.Nickname, o.id.Timezone
	if s.Cloud == "standalone" {
		s.Cloud = "offline" // onboarded: the sync connects with the identity
	}
}

// Identity returns the clock's identity, nil before onboarding.
func (a *Agent) Identity() *identity.Identity {
	a.ob.mu.Lock()
	defer a.ob.mu.Unlock()
	return a.ob.id
}

// IdentityStore is where the identity is kept (STATE_DIR/identity). The
// sync erases it when the clock is disabled; the console verifies the
// technician passcode with what it loads.
func (a *Agent) IdentityStore() *identity.Store {
	a.ob.storeOnce.Do(func() { a.ob.store = identity.NewStore(a.cfg.StateDir) })
	return a.ob.store
}

// adopt makes id the clock's identity: its timezone is the clock's from now.
func (a *Agent) adopt(id *identity.Identity) {
	a.ob.mu.Lock()
	a.ob.id, a.ob.step = id, ""
	a.ob.mu.Unlock()
	a.loc.Store(id.Location())
	a.log.Info("identity", "identity", id)
}

// onboard loads the identity, and with a cloud configured and none yet,
// runs onboarding on the keypad and display until the clock is activated.
// It returns nil when ctx ends first (the progress is kept for the next
// start) and an error only for a setup that cannot work (an unreadable CA).
func (a *Agent) onboard(ctx context.Context, keys <-chan hal.KeyEvent, badges <-chan hal.BadgeEvent) error {
	store := a.IdentityStore()
	if done, err := a.resumeDisable(); done || err != nil {
		return err
	}
	id, err := store.Load()
	switch {
	case err == nil:
		a.adopt(id)
		return nil
	case errors.Is(err, identity.ErrNotOnboarded) && a.disablePhase() == disable.Disabling:
		// Disabled, and the credentials already erased: the last
		// transmission was over when the clock stopped.
		book := a.book.Load()
		r, _ := disable.Load(book.Store())
		r.Phase = disable.Disabled
		return a.setPhase(book, &r, "credentials already erased")
	case errors.Is(err, identity.ErrTorn):
		to, serr := store.SetAside(a.clk.Now())
		a.log.Error("identity damaged: set aside, the clock is not onboarded", "err", err, "moved_to", to, "set_aside_err", serr)
	case !errors.Is(err, identity.ErrNotOnboarded):
		return fmt.Errorf("agent: %w", err)
	}
	if a.cfg.CloudURL == "" {
		return nil // standalone
	}
	opts, err := a.onboardingOptions(store, keys)
	if err != nil {
		return err
	}
	a.setState(StateOnboarding, "cloud configured, no identity")
	// A badge swiped during onboarding is no punch: it is read and dropped
	// here, not left to be taken as one after activation.
	octx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-badges:
				a.log.Info("badge ignored: the clock is being onboarded")
			case <-octx.Done():
				return
			}
		}
	}()
	id, err = onboarding.Run(ctx, opts)
	stop()
	wg.Wait()
	if c, ok := opts.Cloud.(interface{ Close() }); ok {
		c.Close()
	}
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent: onboarding: %w", err)
	}
	a.adopt(id)
	return nil
}

// resumeDisable loads the persisted disable. A disabled clock does not
// onboard by itself: it shows "Disabled by administrator" until the
// installer asks (F4 on the screen, or the console's onboard). It reports
// whether the clock is disabled.
func (a *Agent) resumeDisable() (bool, error) {
	r, ok := disable.Load(a.book.Load().Store())
	if !ok {
		a.phase.Store(uint32(disable.Enabled))
		return false, nil
	}
	a.phase.Store(uint32(r.Phase))
	if r.Phase != disable.Disabled {
		return false, nil
	}
	// The record is written before the erase; credentials left by an
	// erase cut short go now.
	if _, err := a.IdentityStore().Load(); err == nil {
		a.log.Warn("erasing the credentials a disable left behind")
		if err := a.EraseIdentity(); err != nil {
			return true, err
		}
	}
	a.log.Warn("disabled by the administrator: punches are refused until the clock is set up again (F4 on its screen, or the console's onboard)",
		"by", r.By, "disabled_at", r.At.Format(time.RFC3339), "final_seq", r.FinalSeq)
	return true, nil
}

// cloudTarget is the cloud's host, ports and CA as the config names them.
func (a *Agent) cloudTarget() (netcheck.Target, error) {
	u, err := url.Parse(a.cfg.CloudURL)
	if err != nil || u.Hostname() == "" {
		return netcheck.Target{}, fmt.Errorf("agent: cloud_url %q: no host", a.cfg.CloudURL)
	}
	t := netcheck.Target{Host: u.Hostname(), Ports: a.cfg.CloudPortsFor()}
	if a.cfg.CloudCA != "" {
		b, err := os.ReadFile(a.cfg.CloudCA)
		if err != nil {
			return netcheck.Target{}, fmt.Errorf("agent: cloud_ca: %w", err)
		}
		t.CA = x509.NewCertPool()
		if !t.CA.AppendCertsFromPEM(b) {
			return netcheck.Target{}, fmt.Errorf("agent: cloud_ca %s: no PEM certificate in it", a.cfg.CloudCA)
		}
	}
	return t, nil
}

// dialContext is the injected dial for the sync's TLS port (nil: the
// system's).
func (o OnboardOptions) dialContext() func(ctx context.Context, network, addr string) (net.Conn, error) {
	if o.Net == nil {
		return nil
	}
	return o.Net.DialContext
}

// checker is the network check of this model against the cloud.
func (a *Agent) checker(target netcheck.Target) *netcheck.Checker {
	o := a.ob.opts
	var ifaces []netcheck.Iface
	for _, n := range a.hw.Network {
		ifaces = append(ifaces, netcheck.Iface{Name: n, WiFi: slices.Contains(a.hw.WiFi, n)})
	}
	return &netcheck.Checker{Links: o.Links, Net: o.Net, Ifaces: ifaces, Timeouts: o.NetTimeouts, Clock: a.clk, Target: target}
}

func (a *Agent) onboardingOptions(store *identity.Store, keys <-chan hal.KeyEvent) (onboarding.Options, error) {
	o := a.ob.opts
	target, err := a.cloudTarget()
	if err != nil {
		return onboarding.Options{}, err
	}
	serial := o.Serial
	if serial == nil {
		serial = func() (string, error) { return identity.DeviceSerial(identity.SerialOpts{StateDir: a.cfg.StateDir}) }
	}
	sn, err := serial()
	if err != nil {
		return onboarding.Options{}, fmt.Errorf("agent: %w", err)
	}
	cc := cloudapi.Config{BaseURL: a.cfg.CloudURL, CA: target.CA, Timeout: o.CloudTimeout, Clock: a.clk}
	if o.Net != nil {
		cc.Dial = o.Net.DialContext
	}
	client, err := cloudapi.New(cc)
	if err != nil {
		return onboarding.Options{}, fmt.Errorf("agent: %w", err)
	}
	return onboarding.Options{
		Keys: keys, Display: a.hw.Display, Indicator: a.hw.Indicator, Clock: a.clk, Logger: a.log,
		Net:      a.checker(target),
		Cloud:    client,
		Store:    store,
		Device:   wire.Device{Serial: sn, Model: a.hw.Model, Firmware: a.cfg.Version},
		CloudURL: a.cfg.CloudURL,
		Ports:    target.Ports,
		StateDir: a.cfg.StateDir,
		OnState: func(s onboarding.State) {
			a.ob.mu.Lock()
			a.ob.step = s.String()
			a.ob.mu.Unlock()
		},
	}, nil
}
