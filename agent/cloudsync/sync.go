// Package cloudsync is the clock's life after activation: it keeps an MQTT
// session with the cloud's broker (TLS on 59777 with the clock's client
// certificate, secure WebSocket on 59778 when 59777 is filtered), sends the
// journal's pending punches in batches until the cloud's ack names them,
// checks in on the retained status topic, and carries out the cloud's
// commands (disable with one last transmission, rename, roster, timezone,
// reboot).
//
// One goroutine, Run's, owns the session and all of the sync's state; the
// punch loop only signals it (Options.Punched) and never waits for it.
package cloudsync

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"timeclock/agent/fingers"
	"timeclock/agent/journal"
	"timeclock/agent/roster"
	"timeclock/agent/store"
	"timeclock/clock"
	"timeclock/onboarding/identity"
	"timeclock/wire"
)

// ErrDisabled is Run's answer when the administrator disabled the clock:
// the last transmission is done and the credentials are erased.
var ErrDisabled = errors.New("cloudsync: the clock was disabled by the administrator")

// Device is the rest of the clock as the sync needs it. Each command goes
// to the owner of what it changes: rename, timezone and disable to the
// Device (the agent keeps the identity, the zone the screens show and the
// disable phase the punch loop obeys), a roster to Options.Roster, acks to
// Options.Journal, reboot to Options.Reboot.
type Device interface {
	// Facts are what the check-in reports besides the journal's numbers.
	Facts() Facts
	// Rename keeps a new nickname (durably).
	Rename(nickname string) error
	// SetTimezone keeps a new IANA zone (durably); the screens follow it.
	SetTimezone(tz string) error
	// BeginDisable records durably that the clock is being disabled; from
	// its return the clock refuses punches.
	BeginDisable(cmd wire.Command) error
	// FinishDisable erases the clock's credentials and records it
	// disabled; the screen says "Disabled by administrator".
	FinishDisable(finalSeq uint64) error
	// Changed says the connection or the pending count changed (the idle
	// screen shows both). It must not block.
	Changed()
}

// Facts are the clock's facts for the check-in.
type Facts struct {
	Nickname  string
	Model     string
	Firmware  string
	Interface string
	NTPSynced bool // the kernel reports the clock NTP-synchronised
	// Storage is the state file's damage notice (store.Notice.Summary),
	// empty when sound.
	Storage string
}

// Options are the sync's dependencies.
type Options struct {
	Config   Config
	Identity *identity.Identity
	Journal  *journal.Journal
	Roster   *roster.Keeper
	Store    *store.Store // the handled command IDs live in it
	Device   Device
	// Punched receives a signal (non-blocking send, buffer 1) after every
	// punch the journal took.
	Punched <-chan struct{}
	// Disabling is the disable command being carried out when the clock
	// stopped last (nil: none): the last transmission resumes.
	Disabling *wire.Command
	// Reboot restarts the clock (nil: the reboot command is refused). The
	// sync calls it after the command's result is out.
	Reboot func() error
	Clock  clock.Clock
	Rand   Rand
	Logger *slog.Logger
	// Dial makes the TCP connection for MQTT over TLS (nil: net.Dialer).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Time takes the cloud's time from acks and checks certificates
	// against the time floor (nil: neither).
	Time TimeKeeper
	// Biometrics is the clock's fingerprint enrollments (nil: the clock
	// has no fingerprint module): their consent and deletion records go
	// up, delete_biometrics commands come down to it.
	Biometrics Biometrics
}

// Biometrics is what the sync needs of the clock's fingerprint
// enrollments (*agent's fingerprint keeper). Nothing in it is biometric
// data: the templates never leave the module.
type Biometrics interface {
	// Reports returns up to max consent and deletion records not yet
	// delivered, oldest first.
	Reports(max int) ([]fingers.Report, error)
	// Acked drops the records the cloud acknowledged.
	Acked(seqs []uint64) error
	// Delete has the employee's templates deleted from the module (the
	// cloud command cmdID asked) and returns how many; the deletion record
	// follows once the module confirmed it.
	Delete(employee, cmdID string) (int, error)
	// Ready is signalled when there are records to send.
	Ready() <-chan struct{}
	// Poke signals Ready (never blocking): more records wait.
	Poke()
}

// TimeKeeper is what the sync needs of the clock's time keeping
// (*clock.Keeper).
type TimeKeeper interface {
	// Add takes one sample of the cloud's time.
	Add(clock.Sample) error
	// State says how the time is known, the offset last measured and how
	// many samples were refused (the check-in reports them).
	State() clock.State
	// TLSTime is the time certificates are checked against.
	TLSTime() time.Time
}

// Syncer is the clock's sync with the cloud.
type Syncer struct {
	o       Options
	cfg     Config
	log     *slog.Logger
	clk     clock.Clock
	tls     *tls.Config
	handled handledLog
	nowReq  chan chan error

	// Owned by Run's goroutine.
	bo         backoff
	via        transport // tried first: the one that worked last
	disabling  *wire.Command
	finalAcked bool
	// finalCarried counts the punches the cloud acknowledged since the
	// disable began: what the last transmission carried, also the ones
	// already out in ordinary batches when the disable came.
	finalCarried int
	batchBase    uint64
	waiters      []chan error
	lastStatus   wire.Status
	lastPubAt    time.Time
	probesLeft   int                  // time probes still to send on this connection
	cloudTimed   bool                 // the cloud's acks carry its time: it stores corrections
	corrOut      map[string]time.Time // corrections sent, by punch ID, and when
	unreleased   int                  // punches acked since the state file's pages were last released
	standingAt   time.Time            // when the cloud was last asked whether it disabled the clock

	online  atomic.Bool
	refused atomic.Bool            // the last attempt was refused by the cloud
	linkVia atomic.Pointer[string] // "tls 127.0.0.1:59777" while online
	sent    atomic.Int64           // punches published (resends counted)
	acked   atomic.Int64           // punches the cloud's acks moved to acked
}

// New checks the options and returns a syncer ready to Run.
func New(o Options) (*Syncer, error) {
	if err := o.Config.Validate(); err != nil {
		return nil, fmt.Errorf("cloudsync: config: %w", err)
	}
	switch {
	case o.Identity == nil:
		return nil, errors.New("cloudsync: no identity (the clock is not onboarded)")
	case o.Journal == nil || o.Roster == nil || o.Store == nil || o.Device == nil:
		return nil, errors.New("cloudsync: journal, roster, store and device are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Rand == nil {
		return nil, errors.New("cloudsync: no randomness for the backoff")
	}
	pool, err := o.Identity.CAPool()
	if err != nil {
		return nil, fmt.Errorf("cloudsync: %w", err)
	}
	_, errTLS := brokerURL(o.Identity.MQTT, viaTLS)
	_, errWSS := brokerURL(o.Identity.MQTT, viaWSS)
	if errTLS != nil && errWSS != nil {
		return nil, fmt.Errorf("cloudsync: identity: %w; %w", errTLS, errWSS)
	}
	s := &Syncer{
		o: o, cfg: o.Config, log: o.Logger, clk: o.Clock,
		tls: &tls.Config{
			Certificates: []tls.Certificate{o.Identity.TLSCertificate()},
			RootCAs:      pool,
			MinVersion:   tls.VersionTLS12,
		},
		corrOut:   map[string]time.Time{},
		handled:   handledLog{db: o.Store.DB(), keep: o.Config.CommandMemory},
		nowReq:    make(chan chan error),
		bo:        backoff{min: o.Config.BackoffMin, max: o.Config.BackoffMax, rnd: o.Rand},
		disabling: o.Disabling,
		// Batch numbers never repeat across connections or restarts, so an
		// ack that comes late is never taken for another batch's.
		batchBase: uint64(o.Clock.Now().UnixNano()),
	}
	if errTLS != nil {
		s.via = viaWSS
	}
	if o.Time != nil {
		// A board booted at 1970 still checks the broker's certificate
		// against a time no earlier than the floor.
		s.tls.Time = o.Time.TLSTime
	}
	return s, nil
}

// Online reports whether the clock has a live session with the cloud.
func (s *Syncer) Online() bool { return s.online.Load() }

// Refused reports whether the cloud refused the clock at its last attempt
// (its certificate is no longer good: the idle screen says so).
func (s *Syncer) Refused() bool { return s.refused.Load() }

// Link names the transport and address while online ("" offline).
func (s *Syncer) Link() string {
	if p := s.linkVia.Load(); p != nil {
		return *p
	}
	return ""
}

// Counters are the punches published (resends included) and acknowledged
// since the sync started.
func (s *Syncer) Counters() (sent, acked int64) { return s.sent.Load(), s.acked.Load() }

// SyncNow connects at once if the clock is offline (skipping the backoff)
// and returns when nothing is pending, or with the error of the connection
// attempt. ctx bounds the wait.
func (s *Syncer) SyncNow(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case s.nowReq <- done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run keeps the clock synced until ctx is done (nil) or the clock is
// disabled (ErrDisabled).
func (s *Syncer) Run(ctx context.Context) error {
	defer s.setOffline("stopped")
	if s.disabling != nil {
		s.log.Warn("disable in progress: the last transmission resumes", "command", s.disabling.ID)
	}
	for {
		c, err := s.connect(ctx)
		if ctx.Err() != nil {
			s.reply(ctx.Err())
			return nil
		}
		if err == nil && c.Via() != viaTLS && s.disabling == nil && s.askStanding(ctx) {
			// Over the WebSocket fallback a broker may take a refused
			// clock's session and drop all it sends (Mosquitto's
			// listener checks no CRL): the clock asks first.
			c.Close()
			return s.disabledByCloud()
		}
		if err == nil {
			err = s.session(ctx, c) // resets the backoff once subscribed
			c.Close()
			switch {
			case errors.Is(err, ErrDisabled):
				s.setOffline("disabled")
				s.reply(nil)
				return ErrDisabled
			case ctx.Err() != nil:
				s.reply(ctx.Err())
				return nil
			case errors.Is(err, errSwitch):
				s.setOffline("moving back to MQTT over TLS")
				continue
			}
			s.setOffline(err.Error())
		} else {
			if s.disabling != nil && (errors.Is(err, errRefused) || s.handled.delivered(s.disabling.ID)) {
				// Refused (not every broker says so plainly: Mosquitto
				// drops a revoked certificate's connection), after the
				// cloud had the result: the disable is over.
				return s.refusedWhileDisabling(err)
			}
			if s.disabling == nil && s.askStanding(ctx) {
				return s.disabledByCloud()
			}
			if s.refused.Swap(errors.Is(err, errRefused)) != errors.Is(err, errRefused) {
				s.o.Device.Changed()
			}
			// The first failure in a row is worth a warning; the rest
			// of a long outage only at debug, with the count.
			lvl := slog.LevelDebug
			switch {
			case errors.Is(err, errRefused):
				lvl = slog.LevelError
			case s.bo.n == 0:
				lvl = slog.LevelWarn
			}
			s.log.Log(ctx, lvl, "cloud unreachable", "attempt", s.bo.n+1, "err", err)
		}
		s.reply(err)
		if !s.pause(ctx, s.bo.next()) {
			s.reply(ctx.Err())
			return nil
		}
	}
}

// pause waits d before the next attempt; SyncNow cuts it short.
func (s *Syncer) pause(ctx context.Context, d time.Duration) bool {
	s.log.Debug("reconnecting", "in", d.String())
	t := s.clk.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
	case w := <-s.nowReq:
		s.waiters = append(s.waiters, w)
	}
	return true
}

// reply answers every SyncNow waiting.
func (s *Syncer) reply(err error) {
	for _, w := range s.waiters {
		w <- err
	}
	s.waiters = nil
}

// connect tries the transport that worked last, then the other. A refusal
// (the cloud answered and said no) is not a network problem: the other
// port would say the same.
func (s *Syncer) connect(ctx context.Context) (*conn, error) {
	var errs []error
	for _, via := range []transport{s.via, s.via.Other()} {
		u, err := brokerURL(s.o.Identity.MQTT, via)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, err := connectOnce(ctx, connOptions{
			ClientID:  s.o.Identity.DeviceID,
			URL:       u,
			Via:       via,
			Dialer:    s.brokerDialer(),
			KeepAlive: s.cfg.KeepAlive,
			WillTopic: wire.Topic(s.o.Identity.DeviceID, wire.TopicStatus),
			Will:      mustJSON(s.status(false)),
		})
		if err == nil {
			if via != s.via {
				s.log.Warn(fmt.Sprintf("mqtt transport %s -> %s (%s did not connect)", s.via, via, s.via), "err", errors.Join(errs...))
				s.via = via
			}
			return c, nil
		}
		errs = append(errs, fmt.Errorf("%s %s: %w", via, hostOf(u), err))
		if errors.Is(err, errRefused) || ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

// refusedWhileDisabling: the cloud refuses the certificate of a clock that
// was being disabled (it took the result, then the clock stopped before it
// erased its credentials). The disable is over; finish it here.
func (s *Syncer) refusedWhileDisabling(err error) error {
	pending := s.o.Journal.Pending()
	lvl := slog.LevelWarn
	if pending > 0 {
		lvl = slog.LevelError
	}
	s.log.Log(context.Background(), lvl, "the cloud refuses the disabled clock; finishing the disable",
		"err", err, "pending_not_sent", pending)
	if ferr := s.o.Device.FinishDisable(s.o.Journal.LastSeq()); ferr != nil {
		s.log.Error("finishing the disable", "err", ferr)
	}
	s.reply(ErrDisabled)
	return ErrDisabled
}

func (s *Syncer) setOnline(c *conn) {
	s.refused.Store(false)
	link := c.Via().String() + " " + c.Addr()
	s.linkVia.Store(&link)
	if !s.online.Swap(true) {
		s.log.Info(fmt.Sprintf("cloud offline -> online (connected over %s)", link), "from", "offline", "to", "online", "via", c.Via().String())
		s.o.Device.Changed()
	}
}

func (s *Syncer) setOffline(reason string) {
	s.linkVia.Store(nil)
	if s.online.Swap(false) {
		s.log.Info(fmt.Sprintf("cloud online -> offline (%s)", reason), "from", "online", "to", "offline", "reason", reason)
		s.o.Device.Changed()
	}
}

// hostOf is a broker URL without the mqtts:// scheme, for the log.
func hostOf(u string) string { return strings.TrimPrefix(u, "mqtts://") }
