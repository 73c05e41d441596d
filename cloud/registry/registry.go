// Package registry is the cloud's device registry over MQTT: clocks' check-
// ins (status), the commands the cloud sends them (an outbox kept until each
// is answered), the disable with its one last transmission, rename and
// roster pushes, and which certificates the broker lets in.
//
// Store transactions decide; side effects (publishes, the broker gate) come
// after the commit. Every command stays in the store until the clock's
// result names it, and is sent again when the clock comes back online, so a
// lost message or a cloud restart loses no command.
package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"timeclock/clock"
	"timeclock/cloud/bus"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// Config is the registry's timing.
type Config struct {
	// ResendAfter: a command still unanswered this long after its last send
	// is sent again at the clock's next check-in.
	ResendAfter time.Duration
	// PublishTimeout bounds one publish to the broker.
	PublishTimeout time.Duration
}

// DefaultConfig is the production timing.
func DefaultConfig() Config {
	return Config{ResendAfter: 2 * time.Minute, PublishTimeout: 10 * time.Second}
}

// Deps are what the registry works with.
type Deps struct {
	Store store.Store
	Clock clock.Clock
	Log   *slog.Logger
}

// Gate enforces at the broker what the registry decided.
type Gate interface {
	// Refuse cuts a disabled clock off: its live session and, from now on,
	// its certificate.
	Refuse(ctx context.Context, deviceID string) error
	// Changed says which certificates are good changed (an onboarding).
	Changed(ctx context.Context) error
}

// ErrUnknownDevice is a device ID that is not the caller company's.
var ErrUnknownDevice = errors.New("no such device")

// InputError is a request the registry refuses (a bad nickname, a command
// to a disabled clock); its text is for the administrator.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// Registry is the device registry.
type Registry struct {
	cfg Config
	Deps

	mu   sync.Mutex
	bus  bus.Bus             // guarded by mu; set by Start
	gate Gate                // guarded by mu
	ctx  context.Context     // guarded by mu; Start's, for handlers
	seen map[string]struct{} // guarded by mu; clocks checked in since start
}

// New returns a registry; it handles MQTT once Start gave it a bus.
func New(cfg Config, d Deps) (*Registry, error) {
	if d.Store == nil || d.Clock == nil || d.Log == nil {
		return nil, errors.New("registry: missing dependency")
	}
	if cfg.ResendAfter <= 0 || cfg.PublishTimeout <= 0 {
		return nil, errors.New("registry: resend and publish timeouts must be positive")
	}
	return &Registry{cfg: cfg, Deps: d, seen: map[string]struct{}{}, ctx: context.Background()}, nil
}

// Start subscribes to the clocks' status and command results and publishes
// again the retained disable commands of clocks still finishing (a broker
// restarted without its retained messages has lost them).
func (r *Registry) Start(ctx context.Context, b bus.Bus, g Gate) error {
	r.mu.Lock()
	r.bus, r.gate, r.ctx = b, g, ctx
	r.mu.Unlock()
	if err := b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicStatus, r.handleStatus); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	if err := b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicCmdResult, r.handleResult); err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	return r.Republish(ctx)
}

func (r *Registry) deps() (bus.Bus, Gate, context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bus, r.gate, r.ctx
}

// Republish publishes the retained disable command of every clock still
// waiting to finish. Run at start and after every reconnection to an
// external broker.
func (r *Registry) Republish(ctx context.Context) error {
	var todo []store.Command
	err := r.Store.View(ctx, func(tx store.Tx) error {
		devs, err := tx.AllDevices()
		if err != nil {
			return err
		}
		for _, d := range devs {
			if d.Status != store.DeviceDisabling {
				continue
			}
			cmds, err := tx.Commands(d.ID)
			if err != nil {
				return err
			}
			for _, c := range cmds {
				if c.Retained {
					todo = append(todo, c)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("registry: republish: %w", err)
	}
	for _, c := range todo {
		r.send(ctx, c.DeviceID, []store.Command{c})
	}
	if len(todo) > 0 {
		r.Log.Info("retained disable commands published again", "count", len(todo))
	}
	return nil
}

// Allowed says whether the broker lets a clock in with the certificate of
// this serial: approved (or disabling, for its last transmission) and the
// certificate its newest.
func (r *Registry) Allowed(deviceID, certSerial string) bool {
	ok := false
	r.Store.View(context.Background(), func(tx store.Tx) error {
		d, err := tx.Device(deviceID)
		if err != nil {
			return nil
		}
		ok = mayConnect(d.Status) && (d.CertSerial == "" || strings.EqualFold(d.CertSerial, certSerial))
		return nil
	})
	return ok
}

// Activated is told by onboarding that a clock got a new certificate and
// is approved: its old commands are void (a disable pending from before
// must not reach the new identity), its roster is unknown again.
func (r *Registry) Activated(ctx context.Context, deviceID string) {
	var had int
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		d, err := tx.Device(deviceID)
		if err != nil {
			return err
		}
		cmds, err := tx.Commands(deviceID)
		if err != nil {
			return err
		}
		had = len(cmds)
		for _, c := range cmds {
			if err := tx.DeleteCommand(deviceID, c.Cmd.ID); err != nil {
				return err
			}
		}
		d.RosterVersion, d.RosterFailed = 0, 0
		d.DisableCmd, d.DisableDoneAt, d.FinalSeq, d.DisableForced = "", time.Time{}, 0, false
		d.Online = false
		return tx.PutDevice(d)
	})
	if err != nil {
		r.Log.Error("registry: activated", "device", deviceID, "err", err)
		return
	}
	if had > 0 {
		r.Log.Info("commands of the old identity dropped", "device", deviceID, "count", had)
	}
	b, g, _ := r.deps()
	if b != nil {
		// A retained disable left from before would disable the new identity.
		r.publish(ctx, b, wire.Topic(deviceID, wire.TopicCmd), nil, true)
	}
	if g != nil {
		if err := g.Changed(ctx); err != nil {
			r.Log.Error("registry: broker gate", "device", deviceID, "err", err)
		}
	}
}

func (r *Registry) publish(ctx context.Context, b bus.Bus, topic string, payload []byte, retain bool) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.PublishTimeout)
	defer cancel()
	if err := b.Publish(ctx, topic, payload, retain); err != nil {
		r.Log.Warn("publish failed; sent again later", "topic", topic, "err", err)
		return err
	}
	return nil
}

// newCommandID is sortable by time and unique: ms since 1970 and 4 random
// bytes.
func newCommandID(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%011x-%s", now.UnixMilli(), hex.EncodeToString(b))
}

// device loads a device of a company, or ErrUnknownDevice.
func device(tx store.Tx, companyID, deviceID string) (store.Device, error) {
	d, err := tx.Device(deviceID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.CompanyID != companyID) {
		return d, fmt.Errorf("device %s: %w", deviceID, ErrUnknownDevice)
	}
	return d, err
}
