package cloudsync

import (
	"strings"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/wire"
)

// TestBacklogAndOnlinePunchReachTheCloud: punches taken before the
// connection go up in batches, every one is acknowledged and leaves the
// pending set; a punch taken while online follows on its signal.
func TestBacklogAndOnlinePunchReachTheCloud(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-1")
	c.punch(1234)
	c.start(testConfig())
	c.waitOnline()
	c.waitDrained(fc, 1234)
	if !strings.HasPrefix(c.s.Link(), "tls ") {
		t.Errorf("link %q, want MQTT over TLS first", c.s.Link())
	}
	got := c.punch(1)[0]
	c.waitDrained(fc, 1235)
	w, ok := fc.Punch(got.ID.String())
	nb := len(fc.Batches())
	if !ok || w.Seq != got.Seq || w.Employee != got.Employee || w.Kind != wire.KindIn || !w.Time.Equal(got.Time) || !w.ClockSet {
		t.Errorf("cloud has %+v for %+v", w, got)
	}
	if nb < 3 || nb > 10 {
		t.Errorf("%d batches for 1,235 punches in batches of 500", nb)
	}
	recent, err := c.j.Recent(1)
	if err != nil || recent[0].State.String() != "acked" {
		t.Errorf("newest punch %v %v, want acked", recent, err)
	}
	st := await.Value(t, wait, func() (wire.Status, bool) {
		st, ok := fc.LastStatus()
		return st, ok && st.Online && st.Pending == 0
	}, "no online check-in with nothing pending")
	if st.DeviceID != "dev-1" || st.Nickname != "Front door" || st.Model != "sim" || st.Firmware != "test" ||
		st.Interface != "eth0" || !st.NTPSynced || st.LastUsedBy != "Worker" {
		t.Errorf("check-in %+v", st)
	}
	if err := c.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// The broker acknowledges the offline status before it hands the
	// message to the cloud's subscription, so wait for it to arrive.
	await.True(t, wait, func() bool { st, ok := fc.LastStatus(); return ok && !st.Online },
		"after a clean stop the last status still says online")
	if c.s.Online() {
		t.Error("Online after Run returned")
	}
}

// TestBrokerRestartsDuringDrain: the broker goes down three times while a
// backlog drains; the clock reconnects each time and sends again whatever
// was not acknowledged. The cloud ends with every punch, each stored once
// by its ID, and the clock with nothing pending.
func TestBrokerRestartsDuringDrain(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-2")
	const n = 20000
	sent := c.punch(n)
	c.start(testConfig())
	for i := 1; i <= 3; i++ {
		await.True(t, wait, func() bool { return fc.Stored() >= i*n/5 }, "restart %d: cloud stored only %d", i, fc.Stored())
		fc.Restart()
	}
	c.waitDrained(fc, n)
	if fc.Stored() != n {
		t.Fatalf("cloud stored %d distinct punches, want %d", fc.Stored(), n)
	}
	for _, p := range sent {
		if w, ok := fc.Punch(p.ID.String()); !ok || w.Seq != p.Seq {
			t.Fatalf("punch %d missing at the cloud", p.Seq)
		}
	}
	t.Logf("received %d punches for %d stored (resends after restarts)", fc.Received(), n)
}

// TestPunchesWaitForTheCloud: with the broker down the punches stay
// pending; once it is back they go up.
func TestPunchesWaitForTheCloud(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-3")
	c.start(testConfig())
	c.waitOnline()
	fc.Stop()
	await.True(t, wait, func() bool { return !c.s.Online() }, "still online with the broker down")
	c.punch(10)
	if c.j.Pending() != 10 {
		t.Fatalf("pending %d", c.j.Pending())
	}
	fc.Start()
	c.waitDrained(fc, 10)
}

// TestNoAckNoSync: a punch the broker took but the cloud never
// acknowledged stays pending; it goes again after the ack timeout.
func TestNoAckNoSync(t *testing.T) {
	fc := fakecloud.New(t)
	fc.HoldAcks(true)
	c := newClock(t, fc, "dev-4")
	cfg := testConfig()
	cfg.AckTimeout = 300 * time.Millisecond
	c.start(cfg)
	c.waitOnline()
	c.punch(3)
	await.True(t, wait, func() bool { return fc.Received() >= 6 }, "not sent again after the ack timeout")
	if c.j.Pending() != 3 {
		t.Fatalf("pending %d without any ack, want 3", c.j.Pending())
	}
	fc.HoldAcks(false)
	c.waitDrained(fc, 3)
}
