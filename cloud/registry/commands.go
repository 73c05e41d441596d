package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"timeclock/cloud/roster"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// newCommand makes a command for a device's outbox.
func newCommand(deviceID string, typ wire.CommandType, by string, now time.Time) store.Command {
	return store.Command{DeviceID: deviceID, CreatedAt: now,
		Cmd: wire.Command{ID: newCommandID(now), Type: typ, By: by, Issued: now.UTC()}}
}

// send publishes commands to a clock and records the send. A roster
// command's body is built now from the company roster (the outbox keeps
// only which version and base). Failures are logged: the command stays in
// the outbox and goes again at the next check-in.
func (r *Registry) send(ctx context.Context, deviceID string, cmds []store.Command) {
	b, _, _ := r.deps()
	if b == nil || len(cmds) == 0 {
		return
	}
	type out struct {
		c       store.Command
		payload []byte
	}
	var outs []out
	err := r.Store.View(ctx, func(tx store.Tx) error {
		d, err := tx.Device(deviceID)
		if err != nil {
			return err
		}
		for _, c := range cmds {
			cmd := c.Cmd
			if cmd.Type == wire.CmdRoster {
				body, err := roster.Payload(tx, d.CompanyID, c.RosterBase, c.RosterFull)
				if err != nil {
					return err
				}
				c.RosterVersion, c.RosterFull = body.Version, body.Full
				if cmd.Roster, err = json.Marshal(body); err != nil {
					return err
				}
			}
			// The cloud's time as it sends: a clock sets itself by it (from
			// a command not retained, which may be old when delivered).
			cmd.Time = r.Clock.Now().UTC()
			p, err := json.Marshal(cmd)
			if err != nil {
				return err
			}
			outs = append(outs, out{c, p})
		}
		return nil
	})
	if err != nil {
		r.Log.Error("registry: building commands", "device", deviceID, "err", err)
		return
	}
	var sent []store.Command
	for _, o := range outs {
		if r.publish(ctx, b, wire.Topic(deviceID, wire.TopicCmd), o.payload, o.c.Retained) == nil {
			sent = append(sent, o.c)
			r.Log.Info("command sent", "device", deviceID, "command", o.c.Cmd.ID, "type", string(o.c.Cmd.Type),
				"retained", o.c.Retained, "roster_version", o.c.RosterVersion)
		}
	}
	if len(sent) == 0 {
		return
	}
	now := r.Clock.Now()
	err = r.Store.Update(ctx, func(tx store.Tx) error {
		pending, err := tx.Commands(deviceID)
		if err != nil {
			return err
		}
		for _, s := range sent {
			for _, p := range pending {
				if p.Cmd.ID == s.Cmd.ID { // still unanswered
					p.SentAt, p.Sends = now, p.Sends+1
					p.RosterVersion, p.RosterFull = s.RosterVersion, s.RosterFull
					if err := tx.PutCommand(p); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		r.Log.Error("registry: recording sends", "device", deviceID, "err", err)
	}
}

// queueRosterLocked puts a roster command for d in the outbox (inside tx),
// replacing an unanswered one: full when the clock's version is unknown,
// else the delta from what it confirmed. ok is false when there is nothing
// to send.
func queueRosterLocked(tx store.Tx, d store.Device, by string, now time.Time) (store.Command, bool, error) {
	v, err := roster.Version(tx, d.CompanyID)
	if err != nil || v == 0 || d.RosterVersion == v || d.RosterFailed == v {
		return store.Command{}, false, err
	}
	cmds, err := tx.Commands(d.ID)
	if err != nil {
		return store.Command{}, false, err
	}
	for _, c := range cmds {
		if c.Cmd.Type == wire.CmdRoster {
			if err := tx.DeleteCommand(d.ID, c.Cmd.ID); err != nil {
				return store.Command{}, false, err
			}
		}
	}
	c := newCommand(d.ID, wire.CmdRoster, by, now)
	c.RosterVersion, c.RosterBase, c.RosterFull = v, d.RosterVersion, d.RosterVersion == 0
	return c, true, tx.PutCommand(c)
}

// RosterChanged pushes the company's roster to all its approved clocks (a
// delta to those whose version the cloud knows) and returns to how many.
// Clocks offline get it from the broker's session queue or at their next
// check-in.
func (r *Registry) RosterChanged(ctx context.Context, companyID, by string) (int, error) {
	now := r.Clock.Now()
	queued := map[string]store.Command{}
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		clear(queued)
		devs, err := tx.Devices(companyID)
		if err != nil {
			return err
		}
		for _, d := range devs {
			if d.Status != store.DeviceApproved {
				continue
			}
			c, ok, err := queueRosterLocked(tx, d, by, now)
			if err != nil {
				return err
			}
			if ok {
				queued[d.ID] = c
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("registry: roster push: %w", err)
	}
	for id, c := range queued {
		r.send(ctx, id, []store.Command{c})
	}
	return len(queued), nil
}

// Rename sets a device's nickname (shown on the devices page at once) and
// sends the clock a rename command.
func (r *Registry) Rename(ctx context.Context, companyID, deviceID, nickname, by string) (store.Device, error) {
	nickname = strings.TrimSpace(nickname)
	// 64 characters, and 128 bytes: the clock's decoder takes no more.
	if nickname == "" || utf8.RuneCountInString(nickname) > 64 || len(nickname) > 128 || !utf8.ValidString(nickname) || strings.ContainsFunc(nickname, func(c rune) bool { return c < ' ' || c == 0x7f }) {
		return store.Device{}, &InputError{"nickname: want 1 to 64 printable characters"}
	}
	now := r.Clock.Now()
	var d store.Device
	var c store.Command
	var push bool
	err := r.Store.Update(ctx, func(tx store.Tx) (err error) {
		if d, err = device(tx, companyID, deviceID); err != nil {
			return err
		}
		d.Nickname = nickname
		if err := tx.PutDevice(d); err != nil {
			return err
		}
		if push = d.Status == store.DeviceApproved; !push {
			return nil
		}
		c, err = replaceCommandLocked(tx, deviceID, wire.CmdRename, by, now)
		c.Cmd.Nickname = nickname
		if err == nil {
			err = tx.PutCommand(c)
		}
		return err
	})
	if err != nil {
		return d, err
	}
	r.Log.Info("device renamed", "device", deviceID, "by", by)
	if push {
		r.send(ctx, deviceID, []store.Command{c})
	}
	return d, nil
}

// replaceCommandLocked drops unanswered commands of a type (a newer one
// supersedes them) and returns a new one, not yet put.
func replaceCommandLocked(tx store.Tx, deviceID string, typ wire.CommandType, by string, now time.Time) (store.Command, error) {
	cmds, err := tx.Commands(deviceID)
	if err != nil {
		return store.Command{}, err
	}
	for _, c := range cmds {
		if c.Cmd.Type == typ {
			if err := tx.DeleteCommand(deviceID, c.Cmd.ID); err != nil {
				return store.Command{}, err
			}
		}
	}
	return newCommand(deviceID, typ, by, now), nil
}

// SendCommand sends a reboot or timezone command to an approved clock.
func (r *Registry) SendCommand(ctx context.Context, companyID, deviceID string, typ wire.CommandType, timezone, by string) (store.Command, error) {
	switch typ {
	case wire.CmdReboot:
	case wire.CmdTimezone:
		if _, err := time.LoadLocation(timezone); err != nil || timezone == "" || timezone == "Local" {
			return store.Command{}, &InputError{fmt.Sprintf("timezone %q: not an IANA time zone", timezone)}
		}
	default:
		return store.Command{}, &InputError{fmt.Sprintf("type %q: want reboot or timezone (disable, rename and roster have their own calls)", typ)}
	}
	now := r.Clock.Now()
	var c store.Command
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		d, err := device(tx, companyID, deviceID)
		if err != nil {
			return err
		}
		if d.Status != store.DeviceApproved {
			return &InputError{"the device is " + d.Status.String() + "; it takes no commands"}
		}
		if c, err = replaceCommandLocked(tx, deviceID, typ, by, now); err != nil {
			return err
		}
		c.Cmd.Timezone = timezone
		return tx.PutCommand(c)
	})
	if err != nil {
		return c, err
	}
	r.send(ctx, deviceID, []store.Command{c})
	return c, nil
}

// handleResult takes a clock's answer to a command.
func (r *Registry) handleResult(topic string, payload []byte) {
	_, _, ctx := r.deps()
	id, _, _ := wire.SplitTopic(topic)
	res, err := wire.DecodeCommandResult(payload)
	if err != nil {
		r.Log.Warn("command result dropped", "device", id, "bytes", len(payload), "err", err)
		return
	}
	now := r.Clock.Now()
	var (
		cmd      store.Command
		found    bool
		before   store.Device
		after    store.Device
		followUp []store.Command
	)
	err = r.Store.Update(ctx, func(tx store.Tx) error {
		found, followUp = false, nil
		d, err := tx.Device(id)
		if err != nil {
			return err
		}
		before, after = d, d
		cmds, err := tx.Commands(id)
		if err != nil {
			return err
		}
		for _, c := range cmds {
			if c.Cmd.ID == res.ID {
				cmd, found = c, true
			}
		}
		if !found {
			return nil
		}
		switch cmd.Cmd.Type {
		case wire.CmdDisable:
			if !res.OK {
				return nil // stays in the outbox: sent again at the next check-in
			}
			if d.DisableCmd == cmd.Cmd.ID {
				after.Status = next(d.Status, EvFinalReported)
			}
			if after.Status == store.DeviceDisabled && before.Status != store.DeviceDisabled {
				after.DisableDoneAt, after.FinalSeq = now, res.FinalSeq
				after.RevokedSerials = appendSerial(after.RevokedSerials, d.CertSerial)
				after.Online = false
			}
		case wire.CmdRoster:
			switch {
			case res.OK:
				after.RosterVersion, after.RosterFailed = cmd.RosterVersion, 0
			case cmd.RosterFull:
				after.RosterVersion, after.RosterFailed = 0, cmd.RosterVersion
			default:
				after.RosterVersion = 0 // the delta did not fit: send it all
			}
		}
		if err := tx.DeleteCommand(id, cmd.Cmd.ID); err != nil {
			return err
		}
		if !res.OK && cmd.Cmd.Type == wire.CmdRoster && !cmd.RosterFull && after.Status == store.DeviceApproved {
			c, ok, err := queueRosterLocked(tx, after, cmd.Cmd.By, now)
			if err != nil {
				return err
			}
			if ok {
				followUp = append(followUp, c)
			}
		}
		return tx.PutDevice(after)
	})
	if errors.Is(err, store.ErrNotFound) {
		r.Log.Warn("command result from an unknown device", "device", id)
		return
	}
	if err != nil {
		r.Log.Error("registry: command result", "device", id, "err", err)
		return
	}
	if !found {
		r.Log.Debug("result for a command already answered or unknown", "device", id, "command", res.ID)
		return
	}
	lvl, msg := slogInfo, "command done"
	if !res.OK {
		lvl, msg = slogWarn, "command failed on the clock"
	}
	r.Log.Log(ctx, lvl, msg, "device", id, "command", cmd.Cmd.ID, "type", string(cmd.Cmd.Type), "error", res.Error)
	if before.Status != after.Status {
		r.finishDisable(ctx, after, EvFinalReported)
	}
	if len(followUp) > 0 {
		r.send(ctx, id, followUp)
	}
}

func appendSerial(list []string, s string) []string {
	if s == "" {
		return list
	}
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return list
		}
	}
	return append(list, s)
}

// DeleteBiometrics sends every approved clock of the company a
// delete_biometrics command for the employee (a clock may have enrolled
// them without the cloud knowing yet) and returns to how many. Each clock
// deletes the employee's templates from its fingerprint module and reports
// the deletion; a clock offline gets the command when it comes back.
func (r *Registry) DeleteBiometrics(ctx context.Context, companyID, employee, by string) (int, error) {
	if employee == "" || len(employee) > wire.MaxEmployeeIDLen || !wire.Printable(employee) || strings.ContainsAny(employee, " \t") {
		return 0, &InputError{fmt.Sprintf("employee: want 1 to %d characters without spaces", wire.MaxEmployeeIDLen)}
	}
	now := r.Clock.Now()
	var cmds []store.Command
	err := r.Store.Update(ctx, func(tx store.Tx) error {
		cmds = cmds[:0]
		devs, err := tx.Devices(companyID)
		if err != nil {
			return err
		}
		for _, d := range devs {
			if d.Status != store.DeviceApproved {
				continue
			}
			c := newCommand(d.ID, wire.CmdDeleteBiometrics, by, now)
			c.Cmd.Employee = employee
			if err := tx.PutCommand(c); err != nil {
				return err
			}
			cmds = append(cmds, c)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("registry: delete biometrics: %w", err)
	}
	r.Log.Info("biometric data deletion sent to the clocks", "employee", employee, "clocks", len(cmds), "by", by)
	for _, c := range cmds {
		r.send(ctx, c.DeviceID, []store.Command{c})
	}
	return len(cmds), nil
}
