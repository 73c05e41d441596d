// Package agent is the clock's daemon: it runs the clock's modes
// (onboarding until the clock has an identity, then the punch loop) and,
// beside them, the cloud sync and the console's view of the clock, and
// reports the clock's status. Its parts are the sub-packages it drives:
// punchflow (the pure punch flow), journal, roster and store (the state
// file), cloudsync and console; it starts onboarding (package onboarding)
// and adopts the identity it returns.
// It depends on hal interfaces only; cmd/timeclockd opens the board and
// hands the devices in.
package agent

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"timeclock/agent/cloudsync"
	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/clock"
	"timeclock/onboarding"
)

// Options are the agent's injected dependencies.
type Options struct {
	Logger *slog.Logger
	Clock  clock.Clock
	// NTPSynced reports whether the kernel has the wall clock
	// NTP-synchronised, so its time is known to be right; nil asks the
	// kernel (adjtimex).
	NTPSynced func() bool
	// NetworkIface names the interface in use; nil reads the default route.
	NetworkIface func() string
	// Start is when the process started, for the start-up time in the log;
	// zero means now.
	Start time.Time
	// BootID and SinceBoot stamp punches taken on an unset clock; nil
	// reads the kernel's boot ID and CLOCK_BOOTTIME.
	BootID    func() string
	SinceBoot func() time.Duration
	// Onboard are onboarding's system facts.
	Onboard onboarding.System
	// System reboots the clock (the cloud's reboot command); nil refuses
	// that command.
	System System
	// Rand drives the sync's reconnect jitter; nil seeds one.
	Rand cloudsync.Rand
	// ClockSetter sets the wall clock from cloud time when no NTP daemon
	// has synced it (clock.System on a real board, the offset clock on the
	// sim); nil never sets it, the offset is only measured.
	ClockSetter clock.Setter
	// BuildTime is the time floor's start; zero is clock.BuildTime().
	BuildTime time.Time
}

// Agent is the running clock.
type Agent struct {
	cfg   Config
	hw    Hardware
	log   *slog.Logger
	clk   clock.Clock
	loc   atomic.Pointer[time.Location] // the timezone the screens show; the cloud may change it
	start time.Time
	sys   System
	rand  cloudsync.Rand

	ntpSynced    func() bool
	keeper       *clock.Keeper // how the time is known; sets the clock from cloud time
	setter       clock.Setter  // sets the wall clock (nil: cannot)
	networkIface func() string
	bootID       string
	sinceBoot    func() time.Duration

	signals    *signaler                       // the punch loop -> the LEDs and the buzzer
	stateFile  atomic.Pointer[store.Store]     // the open state file, while Run runs
	journal    atomic.Pointer[journal.Journal] // the punch journal, while Run runs
	punched    chan struct{}                   // the punch loop -> the sync: a punch is in the journal
	redraw     chan struct{}                   // the sync and the console -> the punch loop: connection, pending, phase or a notice changed
	probes     chan chan struct{}              // Alive -> the mode loop: close it to say "responsive"
	fingerWake chan struct{}                   // an enrollment or a deletion request -> the fingerprint sweep
	bioReady   chan struct{}                   // consent or deletion records to send -> the sync
	// storageDown: Run waits for a state file it cannot open (and answers
	// the watchdog meanwhile).
	storageDown atomic.Bool
	quiesce     chan chan bool // the updater -> the punch loop: stop now if idle (true: stopped)

	syncer atomic.Pointer[cloudsync.Syncer] // while the sync runs
	phase  atomic.Uint32                    // disablePhase, mirrored from the state file

	ids         *onboarding.Keeper // the identity, and the onboarding step while onboarding
	onboardOpts onboarding.System

	lastGoodMu sync.Mutex
	lastGoodAt time.Time // guarded by lastGoodMu; when the last-known-good time was saved

	mu    sync.Mutex
	state State // guarded by mu
}

// New checks the config and hardware and returns an agent ready to Run.
func New(cfg Config, hw Hardware, o Options) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("agent: config: %w", err)
	}
	if err := hw.check(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.NTPSynced == nil {
		o.NTPSynced = func() bool {
			ok, err := clock.KernelSynced()
			return err == nil && ok
		}
	}
	if o.NetworkIface == nil {
		o.NetworkIface = defaultRouteIface
	}
	if o.Start.IsZero() {
		o.Start = o.Clock.Now()
	}
	if o.BootID == nil {
		o.BootID = func() string {
			id, _ := clock.BootID()
			return id
		}
	}
	if o.SinceBoot == nil {
		o.SinceBoot = func() time.Duration {
			d, _ := clock.SinceBoot()
			return d
		}
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		return nil, fmt.Errorf("agent: timezone: %w", err)
	}
	if o.Rand == nil {
		o.Rand = newRand()
	}
	a := &Agent{
		cfg:          cfg,
		hw:           hw,
		log:          o.Logger,
		clk:          o.Clock,
		start:        o.Start,
		sys:          o.System,
		rand:         o.Rand,
		ntpSynced:    o.NTPSynced,
		networkIface: o.NetworkIface,
		bootID:       o.BootID(),
		sinceBoot:    o.SinceBoot,
		signals:      newSignaler(hw.Indicator, o.Logger),
		punched:      make(chan struct{}, 1),
		redraw:       make(chan struct{}, 1),
		probes:       make(chan chan struct{}),
		fingerWake:   make(chan struct{}, 1),
		bioReady:     make(chan struct{}, 1),
		quiesce:      make(chan chan bool),
		ids:          onboarding.NewKeeper(cfg.StateDir),
		onboardOpts:  o.Onboard,
	}
	if o.BuildTime.IsZero() {
		o.BuildTime = clock.BuildTime()
	}
	a.setter = o.ClockSetter
	a.keeper = clock.NewKeeper(clock.KeeperOptions{
		Clock: o.Clock, Setter: o.ClockSetter, NTPSynced: o.NTPSynced, Floor: clock.Floor{Build: o.BuildTime},
		Logger: o.Logger.With("component", "time"), OnChange: func(clock.State) { a.refresh() },
	})
	a.loc.Store(loc)
	return a, nil
}

// location is the timezone the clock shows and stamps punches with.
func (a *Agent) location() *time.Location { return a.loc.Load() }

// cloudState is the status's cloud: standalone, offline or online.
func (a *Agent) cloudState() string {
	if s := a.syncer.Load(); s != nil && s.Online() {
		return "online"
	}
	if a.cfg.CloudURL != "" {
		return "offline"
	}
	return "standalone"
}

// Status returns the clock's status; safe to call from any goroutine.
func (a *Agent) Status() Status {
	a.mu.Lock()
	st := a.state
	a.mu.Unlock()
	s := Status{
		State:     st,
		Model:     a.hw.Model,
		Version:   a.cfg.Version,
		Cloud:     a.cloudState(),
		NTPSynced: a.ntpSynced(),
		Clock:     a.keeper.State(),
		Network:   a.networkIface(),
		Uptime:    a.clk.Now().Sub(a.start),
	}
	if j := a.journal.Load(); j != nil {
		s.Pending = j.Pending()
		s.LastUsedBy = j.LastUsedBy()
	}
	a.fillIdentity(&s)
	s.Fingerprint = "none"
	if f, ok := a.hw.Finger.(interface{ SensorState() string }); ok {
		s.Fingerprint = f.SensorState()
	} else if a.hw.Finger != nil {
		s.Fingerprint = "connected"
	}
	return s
}

// setState logs every change as "from -> to (reason)".
func (a *Agent) setState(to State, reason string) {
	a.mu.Lock()
	from := a.state
	a.state = to
	a.mu.Unlock()
	if from != to {
		a.log.Info(fmt.Sprintf("state %s -> %s (%s)", from, to, reason), "from", from.String(), "to", to.String(), "reason", reason)
	}
}

// show puts a screen up. A display error is logged, not fatal: a clock with
// a broken display still takes badge punches.
func (a *Agent) show(lines []string) {
	if err := a.hw.Display.Show(lines); err != nil {
		a.log.Error("display", "device", a.hw.Display.String(), "err", err)
	}
}
