package cloudsync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"timeclock/wire"
)

// onCommand carries out one command and answers it on cmd/result. A
// command is carried out once: its result is stored (fsynced) before it is
// published, and a command seen again gets the stored result.
func (s *Syncer) onCommand(ctx context.Context, c *conn, out *outbox, payload []byte) error {
	cmd, err := wire.DecodeCommand(payload)
	if err != nil {
		id := commandID(payload)
		s.log.Warn("command rejected", "id", id, "err", err)
		if id == "" {
			return nil // no ID to answer to; the cloud resends what it meant
		}
		return s.answer(ctx, c, wire.CommandResult{ID: id, Error: err.Error()})
	}
	if s.disabling != nil && cmd.Type == wire.CmdDisable {
		return nil // the disable is being carried out; its result comes with the end of the last transmission
	}
	if res, ok := s.handled.get(cmd.ID); ok {
		s.log.Debug("command seen before: answered again, not carried out again", "id", cmd.ID, "type", string(cmd.Type))
		s.publishResult(c, res)
		return nil
	}
	s.log.Info("command", "id", cmd.ID, "type", string(cmd.Type), "by", cmd.By)
	var detail string
	switch cmd.Type {
	case wire.CmdDisable:
		if err := s.o.Device.BeginDisable(cmd); err != nil {
			return s.answer(ctx, c, result(cmd.ID, fmt.Errorf("disable: %w", err), ""))
		}
		s.disabling, s.finalAcked, s.finalCarried = &cmd, false, 0
		s.log.Warn("disabled by administrator: one last transmission, then the credentials are erased",
			"by", cmd.By, "pending", s.o.Journal.Pending(), "already_out", out.inFlight())
		s.fill(c, out)
		return nil
	case wire.CmdReboot:
		return s.reboot(ctx, c, cmd)
	case wire.CmdRename:
		name := strings.TrimSpace(cmd.Nickname)
		err = s.o.Device.Rename(name)
		detail = "nickname " + name
	case wire.CmdTimezone:
		err = s.o.Device.SetTimezone(cmd.Timezone)
		detail = "timezone " + cmd.Timezone
	case wire.CmdRoster:
		detail, err = s.applyRoster(cmd)
	case wire.CmdDeleteBiometrics:
		detail = "no fingerprint module"
		if s.o.Biometrics != nil {
			var n int
			n, err = s.o.Biometrics.Delete(cmd.Employee, cmd.ID)
			detail = fmt.Sprintf("deleting %d templates of %s", n, cmd.Employee)
		}
	default:
		err = fmt.Errorf("unknown command type %q", cmd.Type) // DecodeCommand lets none through; kept for new types
	}
	if err != nil {
		s.log.Warn("command failed", "id", cmd.ID, "type", string(cmd.Type), "err", err)
	}
	return s.answer(ctx, c, result(cmd.ID, err, detail))
}

// applyRoster replaces the roster in one transaction, or refuses the whole
// roster and keeps the one in force.
func (s *Syncer) applyRoster(cmd wire.Command) (string, error) {
	r, err := decodeRoster(cmd.Roster, s.o.Roster.Current())
	if err != nil {
		return "", fmt.Errorf("roster rejected: %w", err)
	}
	if err := s.o.Roster.Replace(r, nil); err != nil {
		return "", fmt.Errorf("roster not stored: %w", err)
	}
	s.log.Info("roster from the cloud", "version", r.Version(), "employees", r.Len())
	return fmt.Sprintf("roster version %d, %d employees", r.Version(), r.Len()), nil
}

// reboot answers first (stored, then published and acknowledged by the
// broker), then restarts: after the restart the command is answered from
// the store and the clock does not reboot again.
func (s *Syncer) reboot(ctx context.Context, c *conn, cmd wire.Command) error {
	if s.o.Reboot == nil {
		return s.answer(ctx, c, result(cmd.ID, errors.New("this clock cannot restart itself"), ""))
	}
	res := result(cmd.ID, nil, "rebooting")
	if err := s.handled.put(res, s.clk.Now()); err != nil {
		return s.answer(ctx, c, result(cmd.ID, fmt.Errorf("reboot: %w", err), ""))
	}
	if err := s.publishWait(ctx, c, wire.Topic(s.o.Identity.DeviceID, wire.TopicCmdResult), res, false); err != nil {
		s.log.Warn("reboot result not acknowledged by the broker; rebooting anyway", "err", err)
	}
	s.goodbye(c)
	s.log.Warn("rebooting at the cloud's request", "command", cmd.ID, "by", cmd.By)
	if err := s.o.Reboot(); err != nil {
		s.log.Error("reboot failed", "err", err)
	}
	return nil
}

// result is a command's answer.
func result(id string, err error, detail string) wire.CommandResult {
	if err != nil {
		return wire.CommandResult{ID: id, Error: err.Error()}
	}
	return wire.CommandResult{ID: id, OK: true, Detail: detail}
}

// answer stores a result, then publishes it.
func (s *Syncer) answer(ctx context.Context, c *conn, r wire.CommandResult) error {
	if err := s.handled.put(r, s.clk.Now()); err != nil {
		s.log.Error("command result not stored; answering anyway", "id", r.ID, "err", err)
	}
	s.publishResult(c, r)
	return nil
}

func (s *Syncer) publishResult(c *conn, r wire.CommandResult) {
	c.Publish(wire.Topic(s.o.Identity.DeviceID, wire.TopicCmdResult), mustJSON(r), false)
}

// completeDisable ends the last transmission: every punch is acknowledged,
// so the command is answered with the last sequence number, the clock says
// goodbye, and its credentials are erased.
func (s *Syncer) completeDisable(ctx context.Context, c *conn) error {
	cmd := *s.disabling
	res, ok := s.handled.get(cmd.ID)
	if !ok {
		res = wire.CommandResult{ID: cmd.ID, OK: true, FinalSeq: s.o.Journal.LastSeq(),
			Detail: fmt.Sprintf("last transmission: %d punches", s.finalCarried)}
		if err := s.handled.put(res, s.clk.Now()); err != nil {
			s.log.Error("disable result not stored; answering anyway", "err", err)
		}
	}
	if err := s.publishWait(ctx, c, wire.Topic(s.o.Identity.DeviceID, wire.TopicCmdResult), res, false); err != nil {
		return fmt.Errorf("disable result: %w", err) // the next connection answers again
	}
	// From here the cloud may refuse the clock at any moment; a clock
	// stopped before it erased its credentials finishes at its next start.
	if err := s.handled.markDelivered(res, s.clk.Now()); err != nil {
		s.log.Error("disable result delivery not stored", "err", err)
	}
	s.goodbye(c)
	s.log.Warn("disable complete: erasing the credentials", "final_seq", res.FinalSeq, "by", cmd.By, "punches", s.finalCarried)
	if err := s.o.Device.FinishDisable(res.FinalSeq); err != nil {
		s.log.Error("finishing the disable", "err", err)
	}
	return ErrDisabled
}

// commandID reads the ID of a command that did not decode, so the error
// result can name it; "" when there is none fit to answer to.
func commandID(payload []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	if len(payload) > wire.MaxPayload || json.Unmarshal(payload, &v) != nil {
		return ""
	}
	if v.ID == "" || len(v.ID) > 64 {
		return ""
	}
	for _, c := range v.ID {
		if c < '!' || c > '~' || c == '/' || c == '+' || c == '#' {
			return ""
		}
	}
	return v.ID
}
