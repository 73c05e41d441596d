package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"timeclock/cloud/store"
	"timeclock/wire"
)

const (
	slogInfo = slog.LevelInfo
	slogWarn = slog.LevelWarn
)

// Disable moves an approved clock to the disabled list. It sends the clock
// a retained disable command and keeps accepting its punches until the
// clock answers it (its one last transmission); then the clock's
// certificate is refused. With now set it does not wait: the clock is
// disabled and refused at once (a lost or stolen clock). by is the
// administrator, shown as Disabled By. Disabling a disabled clock changes
// nothing.
func (r *Registry) Disable(ctx context.Context, companyID, deviceID, by string, now bool) (store.Device, error) {
	t := r.Clock.Now()
	ev := EvDisable
	if now {
		ev = EvDisableNow
	}
	var (
		before, after store.Device
		cmd           store.Command
	)
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		d, err := device(tx, companyID, deviceID)
		if err != nil {
			return err
		}
		before, after = d, d
		after.Status = next(d.Status, ev)
		if after.Status == before.Status {
			return nil
		}
		if after.DisabledAt.IsZero() {
			after.DisabledAt, after.DisabledBy = t, by
		}
		switch after.Status {
		case store.DeviceDisabling:
			cmd = newCommand(deviceID, wire.CmdDisable, by, t)
			cmd.Retained = true
			after.DisableCmd = cmd.Cmd.ID
			if err := tx.PutCommand(cmd); err != nil {
				return err
			}
		case store.DeviceDisabled:
			after.DisableDoneAt, after.DisableForced, after.Online = t, true, false
			after.RevokedSerials = appendSerial(after.RevokedSerials, d.CertSerial)
			cmds, err := tx.Commands(deviceID)
			if err != nil {
				return err
			}
			for _, c := range cmds {
				if err := tx.DeleteCommand(deviceID, c.Cmd.ID); err != nil {
					return err
				}
			}
		}
		return tx.PutDevice(after)
	})
	if err != nil {
		return after, err
	}
	if after.Status == before.Status {
		return after, nil
	}
	switch after.Status {
	case store.DeviceDisabling:
		r.Log.Info(fmt.Sprintf("device %s -> %s (%s)", before.Status, after.Status, ev), "device", deviceID, "by", by, "command", cmd.Cmd.ID)
		r.send(ctx, deviceID, []store.Command{cmd})
	case store.DeviceDisabled:
		r.finishDisable(ctx, after, ev)
	}
	return after, nil
}

// finishDisable is the side of a completed disable outside the store: the
// retained command is cleared, the broker refuses the clock from now on.
func (r *Registry) finishDisable(ctx context.Context, d store.Device, ev Event) {
	r.Log.Info(fmt.Sprintf("device disabling -> disabled (%s)", ev), "device", d.ID, "final_seq", d.FinalSeq,
		"stored_high_seq", d.HighSeq, "by", d.DisabledBy)
	if ev == EvFinalReported && d.FinalSeq > d.HighSeq {
		r.Log.Warn("the clock reports a final sequence number the cloud never stored", "device", d.ID,
			"final_seq", d.FinalSeq, "stored_high_seq", d.HighSeq)
	}
	b, g, _ := r.deps()
	if b != nil {
		r.publish(ctx, b, wire.Topic(d.ID, wire.TopicCmd), nil, true)
	}
	if g != nil {
		if err := g.Refuse(ctx, d.ID); err != nil {
			r.Log.Error("registry: refusing the disabled clock at the broker", "device", d.ID, "err", err)
		}
	}
}

// Device returns one device of a company.
func (r *Registry) Device(ctx context.Context, companyID, deviceID string) (store.Device, error) {
	var d store.Device
	err := r.Store.View(ctx, func(tx store.Tx) (err error) {
		d, err = device(tx, companyID, deviceID)
		return err
	})
	return d, err
}

// ErrNotDisabled: only a disabled clock (its last transmission over) can be
// enabled again.
var ErrNotDisabled = errors.New("the clock is not disabled, or its last transmission has not come in yet")

// Enable lets a disabled clock be onboarded again: until then the
// onboarding API refuses it ("Clock disabled ... ask them to enable it").
// It stays on the disabled list, marked enabled by by, until an installer
// onboards it with a code mailed to the administrators; that approves it
// again under its old ID. Enabling an enabled clock changes nothing.
func (r *Registry) Enable(ctx context.Context, companyID, deviceID, by string) (store.Device, error) {
	var d store.Device
	changed := false
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		if d, err = device(tx, companyID, deviceID); err != nil {
			return err
		}
		if d.Status != store.DeviceDisabled {
			return fmt.Errorf("device %s: %w", deviceID, ErrNotDisabled)
		}
		if !d.EnabledAt.IsZero() {
			return nil
		}
		d.EnabledAt, d.EnabledBy, changed = r.Clock.Now().UTC(), by, true
		return tx.PutDevice(d)
	})
	if err == nil && changed {
		r.Log.Info("device disabled -> enabled again (may be onboarded again)", "device", deviceID, "by", by)
	}
	return d, err
}
