package clock

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Source says how the clock's time is known, in trust order. The names are
// the ones the punch record, the wire, the console and the docs use.
type Source string

// The sources, most trusted first.
const (
	// SourceNTP: the kernel reports the clock NTP-synchronised (adjtimex);
	// the clock is left alone.
	SourceNTP Source = "ntp"
	// SourceCloud: authenticated cloud time (the HTTPS Date header over TLS
	// to the cloud's CA, the time field of MQTT acks and commands) set or
	// confirmed the clock this boot.
	SourceCloud Source = "cloud"
	// SourceRTC: the clock reads at or above the floor, but nothing has
	// confirmed it this boot (a stale or drifting RTC looks the same).
	SourceRTC Source = "rtc-unverified"
	// SourceUnset: the clock reads below the floor: it was never set since
	// boot. Punches carry the boot ID and monotonic offset for correction.
	SourceUnset Source = "unset"
)

// Known reports whether s vouches for the time (ntp or cloud).
func (s Source) Known() bool { return s == SourceNTP || s == SourceCloud }

// Setter sets the system's wall clock.
type Setter interface {
	SetTime(t time.Time) error
}

// Sample is one reading of authenticated cloud time: what the cloud said
// and when, by the local clock, the question left and the answer came.
type Sample struct {
	Cloud    time.Time
	Sent     time.Time
	Received time.Time
	// Resolution is the granularity of Cloud: a Date header counts whole
	// seconds (the true time is within the second after it); 0 for the
	// millisecond times of MQTT.
	Resolution time.Duration
	Origin     string // "https", "mqtt ack", ... for the log
}

// estimate is a sample's offset (cloud minus local at Received), its round
// trip and the bound on its error (half the round trip and half the cloud
// time's resolution).
type estimate struct {
	offset time.Duration
	rtt    time.Duration
	err    time.Duration
	origin string
}

// MaxRTT bounds the round trip of a usable sample: beyond it half the round
// trip says too little about when the cloud answered.
const MaxRTT = 10 * time.Second

// ErrSample wraps a sample refused for its shape (round trip), as
// ErrBelowFloor and ErrAboveCeiling wrap one refused for its time.
var ErrSample = errors.New("clock: unusable time sample")

// KeeperOptions are a Keeper's dependencies and settings.
type KeeperOptions struct {
	Clock Clock
	// Setter sets the wall clock; nil never sets it (the offset is still
	// measured and reported).
	Setter Setter
	// NTPSynced reports the kernel's NTP state; nil: never synced.
	NTPSynced func() bool
	Floor     Floor
	Logger    *slog.Logger
	// Samples is how many samples decide (default 3); the one with the
	// smallest error bound among them (half its round trip plus half its
	// resolution) is the estimate.
	Samples int
	// Step is the offset above which the clock is set (default 1 s).
	Step time.Duration
	// OnChange is called (without the keeper's lock) after the clock was set
	// or its source changed.
	OnChange func(State)
}

// State is what the keeper knows of the clock.
type State struct {
	Source Source
	// Offset is the cloud's time minus the clock's at the last estimate
	// (after a step, what was left); OffsetKnown is false before any.
	Offset      time.Duration
	OffsetKnown bool
	// Refused counts samples refused (below the floor, above the ceiling,
	// unusable round trip); LastRefusal says why the last one was.
	Refused     int
	LastRefusal string
	// Steps counts the times the keeper set the clock; LastStep is the
	// size of the last one (negative: the clock went back).
	Steps    int
	LastStep time.Duration
}

// Keeper decides how the clock's time is known and sets it from
// authenticated cloud time when no NTP daemon has. It is safe for
// concurrent use.
type Keeper struct {
	o KeeperOptions

	mu      sync.Mutex
	pending []estimate    // guarded by mu; samples since the last decision
	trusted bool          // guarded by mu; cloud time set or confirmed the clock this boot
	held    bool          // guarded by mu; no step while held (Hold)
	hint    time.Duration // guarded by mu; port 80's offset, for TLS only (TLSHint)
	hinted  bool          // guarded by mu
	st      State         // guarded by mu
}

// Hold stops (true) or allows again (false) setting the clock: while the
// clock is being onboarded its countdowns run on the wall clock, so a step
// would end them. Samples are still measured and reported.
func (k *Keeper) Hold(on bool) {
	k.mu.Lock()
	k.held = on
	k.mu.Unlock()
}

// TLSHint records port 80's plain-HTTP Date (cloud) read when the clock
// showed local. It is not authenticated: it only moves the time
// certificates are checked against while no trusted source vouches for the
// clock, so TLS works on a clock at 1970; it never sets the clock or stamps
// a punch.
func (k *Keeper) TLSHint(cloud, local time.Time) {
	k.mu.Lock()
	k.hint, k.hinted = cloud.Sub(local), true
	k.mu.Unlock()
}

// NewKeeper returns a keeper; o.Clock is required.
func NewKeeper(o KeeperOptions) *Keeper {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NTPSynced == nil {
		o.NTPSynced = func() bool { return false }
	}
	if o.Samples <= 0 {
		o.Samples = 3
	}
	if o.Step <= 0 {
		o.Step = time.Second
	}
	return &Keeper{o: o}
}

// State returns the keeper's view, with the source as of now.
func (k *Keeper) State() State {
	now := k.o.Clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	st := k.st
	st.Source = k.sourceLocked(now)
	return st
}

// Source is how the clock's time is known now: what a punch is stamped with.
func (k *Keeper) Source() Source { return k.State().Source }

// Floor is the lower bound on the true time now.
func (k *Keeper) Floor() time.Time {
	now := k.o.Clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.o.Floor.At(now, k.trustedLocked(now))
}

// TLSTime is the time to check certificates with: the clock (moved by
// port 80's offset while nothing vouches for it), raised to the floor.
func (k *Keeper) TLSTime() time.Time {
	now := k.o.Clock.Now()
	k.mu.Lock()
	defer k.mu.Unlock()
	trusted := k.trustedLocked(now)
	t := now
	if !trusted && k.hinted {
		t = now.Add(k.hint)
	}
	return Raise(t, k.o.Floor.At(now, trusted))
}

// SetLastGood raises the floor's last-known-good time (read from the state
// file at start).
func (k *Keeper) SetLastGood(t time.Time) {
	k.mu.Lock()
	if t.After(k.o.Floor.LastGood) {
		k.o.Floor.LastGood = t
	}
	k.mu.Unlock()
}

func (k *Keeper) trustedLocked(now time.Time) bool { return k.trusted || k.ntpLocked(now) }

// ntpLocked: an NTP daemon synced the clock, and it reads at or above the
// floor (a kernel saying "synced" of a 1970 clock is not believed).
func (k *Keeper) ntpLocked(now time.Time) bool {
	return k.o.NTPSynced() && !now.Before(k.o.Floor.At(now, false))
}

func (k *Keeper) sourceLocked(now time.Time) Source {
	switch {
	case k.ntpLocked(now):
		return SourceNTP
	case k.trusted:
		return SourceCloud
	case !now.Before(k.o.Floor.At(now, false)) && IsSet(now):
		return SourceRTC
	}
	return SourceUnset
}

// Add takes one sample of authenticated cloud time. A refused sample is
// logged and counted (State.Refused) and its error returned; it never
// changes the clock.
func (k *Keeper) Add(s Sample) error {
	k.mu.Lock()
	st, changed, err := k.addLocked(s)
	k.mu.Unlock()
	if changed && k.o.OnChange != nil {
		k.o.OnChange(st)
	}
	return err
}

func (k *Keeper) addLocked(s Sample) (State, bool, error) {
	before := k.sourceLocked(s.Received)
	rtt := s.Received.Sub(s.Sent)
	var err error
	if rtt < 0 || rtt > MaxRTT {
		err = fmt.Errorf("%w: %s round trip %v", ErrSample, s.Origin, rtt)
	} else {
		cloudNow := s.Cloud.Add(s.Resolution/2 + rtt/2)
		err = Check(cloudNow, k.o.Floor.At(s.Received, k.trustedLocked(s.Received)))
		if err == nil {
			k.pending = append(k.pending, estimate{offset: cloudNow.Sub(s.Received), rtt: rtt, err: (rtt + s.Resolution) / 2, origin: s.Origin})
		} else {
			err = fmt.Errorf("clock: %s time refused: %w", s.Origin, err)
		}
	}
	if err != nil {
		k.st.Refused++
		k.st.LastRefusal = err.Error()
		k.o.Logger.Warn("time sample refused", "origin", s.Origin, "err", err, "refused", k.st.Refused)
		return k.st, false, err
	}
	if len(k.pending) < k.o.Samples {
		return k.st, false, nil
	}
	best := slices.MinFunc(k.pending, func(a, b estimate) int { return int(a.err - b.err) })
	n := len(k.pending)
	k.pending = k.pending[:0]
	k.st.Offset, k.st.OffsetKnown = best.offset, true
	stepped := false
	switch {
	case k.ntpLocked(s.Received):
		// An NTP daemon owns the clock: measure, never set.
	case abs(best.offset) > k.o.Step && k.held:
		k.o.Logger.Info("clock off; set once onboarding is over", "offset_ms", best.offset.Milliseconds(), "origin", best.origin)
	case abs(best.offset) > k.o.Step && k.o.Setter != nil:
		now := k.o.Clock.Now()
		to := now.Add(best.offset)
		if err := k.o.Setter.SetTime(to); err != nil {
			k.o.Logger.Error("setting the clock failed", "offset_ms", best.offset.Milliseconds(), "err", err)
			return k.st, false, fmt.Errorf("clock: set: %w", err)
		}
		k.st.Steps++
		k.st.LastStep = best.offset
		k.st.Offset = 0
		k.trusted, stepped = true, true
		k.o.Logger.Info(fmt.Sprintf("clock set %s -> %s (cloud time, %d samples, best round trip %v)",
			now.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano), n, best.rtt),
			"from", now.UTC(), "to", to.UTC(), "offset_ms", best.offset.Milliseconds(), "rtt_ms", best.rtt.Milliseconds(), "origin", best.origin)
	case abs(best.offset) <= k.o.Step:
		k.trusted = true // cloud time confirms the clock
	}
	after := k.sourceLocked(k.o.Clock.Now())
	if after != before {
		k.o.Logger.Info(fmt.Sprintf("clock source %s -> %s (%s)", before, after, best.origin), "from", string(before), "to", string(after))
	}
	st := k.st
	st.Source = after
	return st, stepped || after != before, nil
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
