package cloudsync

import (
	"context"
	"time"

	"timeclock/wire"
)

// status is the clock's check-in as of now.
func (s *Syncer) status(online bool) wire.Status {
	f := s.o.Device.Facts()
	now := s.clk.Now()
	st := wire.Status{
		DeviceID:   s.o.Identity.DeviceID,
		Online:     online,
		Nickname:   f.Nickname,
		Model:      f.Model,
		Firmware:   f.Firmware,
		LastUsedBy: s.o.Journal.LastUsedBy(),
		Pending:    s.o.Journal.Pending(),
		NTPSynced:  f.NTPSynced,
		Interface:  f.Interface,
		Storage:    wire.ClipStorage(f.Storage),
		Time:       now.UTC(),
	}
	rv := s.o.Roster.Current().Version() // 0 after a salvage or a loss: the cloud then sends it all
	st.RosterVersion = &rv
	s.timeStatus(&st)
	if st.Pending > 0 {
		if p, ok, err := s.o.Journal.OldestPending(); err == nil && ok && now.After(p.Time) {
			st.OldestAge = int64(now.Sub(p.Time) / time.Second)
		}
	}
	return st
}

// sameStatus compares what a check-in reports, leaving out what moves by
// itself (the time, the oldest punch's age).
func sameStatus(a, b wire.Status) bool {
	a.Time, b.Time = time.Time{}, time.Time{}
	a.OldestAge, b.OldestAge = 0, 0
	if !sameOffset(a.ClockOffsetMS, b.ClockOffsetMS) {
		return false
	}
	a.ClockOffsetMS, b.ClockOffsetMS = nil, nil
	if (a.RosterVersion == nil) != (b.RosterVersion == nil) || (a.RosterVersion != nil && *a.RosterVersion != *b.RosterVersion) {
		return false
	}
	a.RosterVersion, b.RosterVersion = nil, nil
	return a == b
}

// publishStatus checks in (retained). force publishes even when nothing
// changed: the periodic check-in and the first one of a connection.
func (s *Syncer) publishStatus(c *conn, force bool) {
	st := s.status(true)
	if !force && sameStatus(st, s.lastStatus) {
		return
	}
	c.Publish(wire.Topic(s.o.Identity.DeviceID, wire.TopicStatus), mustJSON(st), true)
	s.lastStatus, s.lastPubAt = st, s.clk.Now()
}

// probeTLS is the TLS port's probe while the clock is on the WebSocket.
func (s *Syncer) probeTLS(ctx context.Context) error {
	return s.brokerDialer().Probe(ctx, s.o.Identity.MQTT, viaTLS)
}

func (s *Syncer) brokerDialer() dialer {
	return dialer{TLS: s.tls, Timeout: s.cfg.ConnectTimeout, Dial: s.o.Dial}
}
