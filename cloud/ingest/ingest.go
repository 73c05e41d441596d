// Package ingest stores the punches clocks send and acknowledges them: each
// punch by its device and ID in one transaction (a resend is harmless: the
// punch is stored once), fsynced, then an ack naming every punch of the
// batch now stored goes to the clock. A clock drops a punch from its
// journal only when an ack names it, so a punch is stored exactly once
// however often the network, the broker or the cloud fails in between.
package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"timeclock/clock"
	"timeclock/cloud/bus"
	"timeclock/cloud/store"
	"timeclock/wire"
)

// Deps are what the ingest works with.
type Deps struct {
	Store store.Store
	Clock clock.Clock
	Log   *slog.Logger
	// Stored, if set, is told about every batch stored (the dev output).
	Stored func(deviceID string, added, resent int)
}

// Ingest takes punches from the bus.
type Ingest struct {
	Deps
	bus bus.Bus
	ctx context.Context
}

// ErrRefused wraps why a batch was not stored: the device is unknown or
// disabled for good.
var ErrRefused = errors.New("punches refused")

// Start subscribes to every clock's punches topic.
func Start(ctx context.Context, b bus.Bus, d Deps) (*Ingest, error) {
	if d.Store == nil || d.Clock == nil || d.Log == nil {
		return nil, errors.New("ingest: missing dependency")
	}
	in := &Ingest{Deps: d, bus: b, ctx: ctx}
	if err := b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicPunches, in.handle); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if err := b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicBiometrics, in.handleBiometrics); err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return in, nil
}

// handle is one punches message. Nothing in it can crash the ingest: a
// malformed batch is logged (its size and the decoder's reason, never the
// payload) and dropped, unacknowledged; in a well-formed batch, punches
// that fail their checks are logged and left unacknowledged while the
// others are stored, so one bad punch does not hold the rest back.
func (in *Ingest) handle(topic string, payload []byte) {
	id, _, _ := wire.SplitTopic(topic)
	b, err := wire.DecodePunchBatch(payload)
	if err != nil {
		var ok bool
		if b, ok = in.salvage(id, payload); !ok {
			in.Log.Warn("punch batch dropped", "device", id, "bytes", len(payload), "err", err)
			return
		}
	}
	ack, added, err := in.StoreBatch(in.ctx, id, b)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			in.Log.Warn("punch batch refused", "device", id, "punches", len(b.Punches), "reason", err.Error())
		} else {
			in.Log.Error("punch batch not stored; the clock will send it again", "device", id, "err", err)
		}
		return
	}
	resent := len(b.Punches) - added
	logf := in.Log.Info
	if len(b.Punches) == 0 && !b.Final {
		logf = in.Log.Debug // a clock's time probe, every minute
	}
	logf("punches stored", "device", id, "batch", b.Batch, "new", added, "resent", resent, "final", b.Final, "high_seq", ack.HighSeq)
	if in.Stored != nil {
		in.Stored(id, added, resent)
	}
	// The cloud's time, read as late as possible: the clock sets itself by
	// it (half the round trip added).
	ack.Time = in.Clock.Now().UTC()
	p, _ := json.Marshal(ack)
	ctx, cancel := context.WithTimeout(in.ctx, 10*time.Second)
	defer cancel()
	if err := in.bus.Publish(ctx, wire.Topic(id, wire.TopicAck), p, false); err != nil {
		// Stored all the same; the clock resends and gets the ack then.
		in.Log.Warn("ack not sent", "device", id, "batch", b.Batch, "err", err)
	}
}

// salvage keeps the valid punches of a batch whose envelope is sound but
// some of whose punches are not: each punch is decoded on its own, so one
// that does not even decode (a seq beyond 64 bits, a time that is not a
// time) costs only itself.
func (in *Ingest) salvage(deviceID string, payload []byte) (wire.PunchBatch, bool) {
	var raw struct {
		Batch   uint64            `json:"batch"`
		Punches []json.RawMessage `json:"punches"`
		Final   bool              `json:"final"`
	}
	if len(payload) > wire.MaxPayload || json.Unmarshal(payload, &raw) != nil || len(raw.Punches) > wire.MaxBatch {
		return wire.PunchBatch{}, false
	}
	b := wire.PunchBatch{Batch: raw.Batch, Final: raw.Final}
	for i, r := range raw.Punches {
		var p wire.Punch
		err := json.Unmarshal(r, &p)
		if err == nil {
			err = p.Validate()
		}
		if err != nil {
			in.Log.Warn("punch refused: not acknowledged", "device", deviceID, "batch", b.Batch, "index", i, "id", short(p.ID), "err", err)
			continue
		}
		b.Punches = append(b.Punches, p)
	}
	return b, len(b.Punches) > 0
}

// StoreBatch stores one batch from a device and returns the ack for it and
// how many punches were new.
func (in *Ingest) StoreBatch(ctx context.Context, deviceID string, b wire.PunchBatch) (wire.Ack, int, error) {
	now := in.Clock.Now()
	ack := wire.Ack{Batch: b.Batch, IDs: make([]string, 0, len(b.Punches))}
	if len(b.Punches) == 0 {
		// An empty batch (a clock's time probe, or the end of a last
		// transmission) stores nothing: answered from a read, no write.
		err := in.Store.View(ctx, func(tx store.Tx) error {
			d, err := tx.Device(deviceID)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: unknown device", ErrRefused)
			}
			if err != nil {
				return err
			}
			switch d.Status {
			case store.DeviceApproved, store.DeviceDisabling:
			default:
				return fmt.Errorf("%w: device is %s", ErrRefused, d.Status)
			}
			ack.HighSeq = d.HighSeq
			return nil
		})
		return ack, 0, err
	}
	var added int
	err := in.Store.Update(ctx, func(tx store.Tx) error {
		added = 0
		ack.IDs, ack.Corrected = ack.IDs[:0], nil
		d, err := tx.Device(deviceID)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w: unknown device", ErrRefused)
		}
		if err != nil {
			return err
		}
		switch d.Status {
		case store.DeviceApproved, store.DeviceDisabling: // disabling: its last transmission
		default:
			return fmt.Errorf("%w: device is %s", ErrRefused, d.Status)
		}
		var last *wire.Punch
		// The highest sequence number this device can have made: every
		// punch more than wire.MaxPending behind its newest was
		// acknowledged, so stored (docs/protocol.md). Measured from what was
		// stored before this batch, so a batch cannot raise its own bound.
		maxSeq := d.HighSeq + wire.MaxPending
		if maxSeq < d.HighSeq {
			maxSeq = math.MaxUint64
		}
		for i := range b.Punches {
			p := &b.Punches[i]
			// A seq beyond the bound is damage on the clock's side (or a
			// client that is no clock): the punch itself is a person's time,
			// so it is stored and acknowledged like any other (left pending,
			// it would be sent for ever and hold up a disable's last
			// transmission), but its seq never moves high_seq.
			seqOK := p.Seq <= maxSeq
			if !seqOK {
				in.Log.Warn("punch stored with a sequence number out of range; high_seq not moved", "device", d.ID, "batch", b.Batch, "index", i, "id", short(p.ID),
					"err", fmt.Sprintf("seq %d: beyond what the clock can have made (stored up to %d, at most %d pending)", p.Seq, d.HighSeq, wire.MaxPending))
			}
			ok, err := tx.PutPunch(store.Punch{DeviceID: d.ID, CompanyID: d.CompanyID, Punch: *p, ReceivedAt: now, Final: b.Final})
			if err != nil {
				return err
			}
			ack.IDs = append(ack.IDs, p.ID)
			if p.Corrected {
				// A correction of a punch stored earlier with the time the
				// clock first gave it, or a punch that came corrected.
				stored, err := tx.CorrectPunch(d.ID, *p, now)
				if err != nil {
					return err
				}
				if stored {
					ack.Corrected = append(ack.Corrected, p.ID)
				}
			}
			if !ok {
				continue
			}
			added++
			d.Punches++
			if seqOK {
				d.HighSeq = max(d.HighSeq, p.Seq)
			}
			if last == nil || p.Time.After(last.Time) {
				last = p
			}
		}
		if len(b.Punches) > 0 {
			d.LastCheckedIn = now // the seed: "synced or last sent in a time record"
		}
		if last != nil && !last.Time.Before(d.LastPunchAt) {
			d.LastPunchAt = last.Time
			if last.Employee != "" {
				name, err := employeeName(tx, d.CompanyID, last.Employee)
				if err != nil {
					return err
				}
				d.LastUsedBy = name
			}
		}
		ack.HighSeq = d.HighSeq
		return tx.PutDevice(d)
	})
	return ack, added, err
}

// employeeName is what Last Used By shows for an employee ID: the name
// the company's roster gives it, as the clock's check-in reports it, or the
// ID when the roster does not know it (a punch from an older roster).
func employeeName(tx store.Tx, companyID, id string) (string, error) {
	es, err := tx.RosterEmployees(companyID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("ingest: roster: %w", err)
	}
	for _, e := range es {
		if e.ID == id && e.Name != "" {
			return e.Name, nil
		}
	}
	return id, nil
}

// short bounds what a log line repeats of a bad field.
func short(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

// handleBiometrics stores a clock's consent and deletion records, each once
// by device and sequence number, then acknowledges them on the clock's ack
// topic (Ack.Biometrics); the clock keeps a record until an ack names it.
// A malformed message is logged (its size and the decoder's reason) and
// dropped.
func (in *Ingest) handleBiometrics(topic string, payload []byte) {
	id, _, _ := wire.SplitTopic(topic)
	reps, err := wire.DecodeBiometricReports(payload)
	if err != nil {
		in.Log.Warn("biometric records dropped", "device", id, "bytes", len(payload), "err", err)
		return
	}
	now := in.Clock.Now().UTC()
	added := 0
	err = in.Store.Update(in.ctx, func(tx store.Tx) error {
		added = 0
		d, err := tx.Device(id)
		if err != nil {
			return fmt.Errorf("%w: device %s: %v", ErrRefused, id, err)
		}
		for _, r := range reps.Reports {
			ok, err := tx.PutBiometric(store.BiometricRecord{CompanyID: d.CompanyID, DeviceID: id, BiometricReport: r, ReceivedAt: now})
			if err != nil {
				return err
			}
			if ok {
				added++
			}
		}
		return nil
	})
	if err != nil {
		in.Log.Warn("biometric records not stored", "device", id, "records", len(reps.Reports), "err", err)
		return
	}
	in.Log.Info("biometric records stored", "device", id, "records", len(reps.Reports), "new", added)
	ack := wire.Ack{Biometrics: make([]uint64, len(reps.Reports))}
	for i, r := range reps.Reports {
		ack.Biometrics[i] = r.Seq
	}
	p, _ := json.Marshal(ack)
	if err := in.bus.Publish(in.ctx, wire.Topic(id, wire.TopicAck), p, false); err != nil {
		in.Log.Warn("biometric records stored but not acknowledged; the clock sends them again", "device", id, "err", err)
	}
}
