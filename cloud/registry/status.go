package registry

import (
	"errors"
	"fmt"
	"slices"

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
		healed        bool // the clock lost the roster it confirmed
	)
	err = r.Store.Update(ctx, func(tx store.Tx) error {
		send, ignored, healed = nil, false, false
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
		if healed = rosterLost(s.RosterVersion, after, cmds); healed {
			// The full roster at once, in place of any delta from the lost
			// version (queueRosterLocked drops unanswered roster commands).
			after.RosterVersion, after.RosterFailed = 0, 0
			if err := tx.PutDevice(after); err != nil {
				return err
			}
			send = slices.DeleteFunc(send, func(c store.Command) bool { return c.Cmd.Type == wire.CmdRoster })
		}
		// Catch up what the clock lacks: the roster, its nickname.
		if !has[wire.CmdRoster] || healed {
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
	if healed {
		r.Log.Info(fmt.Sprintf("device roster %d -> 0 (the clock lost the roster it confirmed: its check-in says version %d); sending it the full roster",
			before.RosterVersion, *s.RosterVersion), "device", id, "confirmed_version", before.RosterVersion, "clock_version", *s.RosterVersion)
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

// rosterLost says a check-in shows the clock no longer holds the roster
// version the cloud believes it confirmed: its state file was salvaged or
// lost (version 0), or it holds another one. A clock that does not report
// its version (reported nil: older firmware) is believed as before. Not
// lost: a cloud that believes nothing confirmed (0: it sends the full
// roster anyway, and a full roster the clock refused is not sent again at
// every check-in), nor a clock reporting the version of an unanswered
// roster command (it applied it; the result is on its way).
func rosterLost(reported *uint64, d store.Device, cmds []store.Command) bool {
	if reported == nil || d.RosterVersion == 0 || *reported == d.RosterVersion {
		return false
	}
	for _, c := range cmds {
		if c.Cmd.Type == wire.CmdRoster && c.RosterVersion == *reported {
			return false
		}
	}
	return true
}
