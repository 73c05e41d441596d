package registry

import (
	"errors"
	"fmt"

	"timeclock/cloud/store"
	"timeclock/wire"
)

// handleStatus takes a clock's check-in (or its last will): the registry's
// columns, online or offline, and, when it comes online, the commands it
// still has to get.
func (r *Registry) handleStatus(topic string, payload []byte) {
	_, _, ctx := r.deps()
	id, _, _ := wire.SplitTopic(topic)
	if len(payload) == 0 {
		return // a retained status cleared
	}
	s, err := wire.DecodeStatus(payload)
	if err != nil {
		r.Log.Warn("status dropped", "device", id, "bytes", len(payload), "err", err)
		return
	}
	if s.DeviceID != id {
		r.Log.Warn("status dropped: it names another device", "device", id, "names", s.DeviceID)
		return
	}
	r.mu.Lock()
	_, seen := r.seen[id]
	r.seen[id] = struct{}{}
	r.mu.Unlock()

	now := r.Clock.Now()
	var (
		before, after store.Device
		send          []store.Command
		ignored       bool
	)
	err = r.Store.Update(ctx, func(tx store.Tx) error {
		send, ignored = nil, false
		d, err := tx.Device(id)
		if err != nil {
			return err
		}
		if !mayConnect(d.Status) {
			ignored = true // a will or a stale retained status of a finished clock
			return nil
		}
		before, after = d, d
		after.Online, after.StatusAt = s.Online, now
		after.Pending, after.OldestAge, after.NTPSynced = s.Pending, s.OldestAge, s.NTPSynced
		if s.Online {
			after.Storage = s.Storage // a will says nothing of it
		}
		if s.Online {
			after.LastCheckedIn = now
		}
		if s.Interface != "" {
			after.Interface = s.Interface
		}
		if s.Firmware != "" {
			after.Firmware = s.Firmware
		}
		if s.Model != "" {
			after.Model = s.Model
		}
		if s.LastUsedBy != "" {
			after.LastUsedBy = s.LastUsedBy
		}
		if s.ClockSource != "" {
			after.ClockSource, after.ClockOffsetMS = s.ClockSource, s.ClockOffsetMS
		}
		if err := tx.PutDevice(after); err != nil {
			return err
		}
		if !s.Online {
			return nil
		}
		cmds, err := tx.Commands(id)
		if err != nil {
			return err
		}
		// Back online (or first heard from since the cloud started): all
		// unanswered commands again; else those unanswered for a while.
		fresh := !before.Online || !seen
		has := map[wire.CommandType]bool{}
		for _, c := range cmds {
			has[c.Cmd.Type] = true
			if fresh || now.Sub(c.SentAt) >= r.cfg.ResendAfter {
				send = append(send, c)
			}
		}
		if after.Status != store.DeviceApproved {
			return nil
		}
		// Catch up what the clock lacks: the roster, its nickname.
		if !has[wire.CmdRoster] {
			c, ok, err := queueRosterLocked(tx, after, "", now)
			if err != nil {
				return err
			}
			if ok {
				send = append(send, c)
			}
		}
		if s.Nickname != "" && s.Nickname != after.Nickname && !has[wire.CmdRename] {
			c := newCommand(id, wire.CmdRename, "", now)
			c.Cmd.Nickname = after.Nickname
			if err := tx.PutCommand(c); err != nil {
				return err
			}
			send = append(send, c)
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		r.Log.Warn("status from an unknown device", "device", id)
		return
	case err != nil:
		r.Log.Error("registry: status", "device", id, "err", err)
		return
	case ignored:
		r.Log.Debug("status of a disabled device ignored", "device", id, "online", s.Online)
		return
	}
	if before.Online != after.Online || !seen {
		r.Log.Info(fmt.Sprintf("device %s -> %s (check-in)", onlineName(before.Online), onlineName(after.Online)),
			"device", id, "pending", s.Pending, "oldest_pending_age_s", s.OldestAge, "ntp_synced", s.NTPSynced,
			"interface", s.Interface, "firmware", s.Firmware)
	}
	r.send(ctx, id, send)
}

func onlineName(b bool) string {
	if b {
		return "online"
	}
	return "offline"
}
