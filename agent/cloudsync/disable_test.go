package cloudsync

import (
	"errors"
	"testing"
	"time"

	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/wire"
)

func disableCmd(id string) wire.Command {
	return wire.Command{ID: id, Type: wire.CmdDisable, By: "admin@demo.example", Issued: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
}

// finalOf returns the punches the cloud got in Final batches and whether
// any Final batch came.
func finalOf(fc *fakecloud.Cloud) (n int, any bool) {
	for _, b := range fc.Batches() {
		if b.Final {
			any = true
			n += len(b.Punches)
		}
	}
	return n, any
}

// TestDisable: online, or offline with the retained command waiting on the
// broker, the clock sends everything pending (the last batch marked Final),
// waits for the acks, answers OK with the last sequence number, says it is
// offline, and only then finishes the disable (the credentials go).
func TestDisable(t *testing.T) {
	for _, offline := range []bool{false, true} {
		name := map[bool]string{false: "online", true: "offline"}[offline]
		t.Run(name, func(t *testing.T) {
			fc := fakecloud.New(t)
			c := newClock(t, fc, "dev-dis-"+name)
			ps := c.punch(1700)
			cfg := testConfig()
			cfg.AckTimeout = 300 * time.Millisecond // the acks held back below are asked for again soon
			if offline {
				fc.Command(c.id.DeviceID, disableCmd("d1"), true)
				c.start(cfg)
			} else {
				fc.HoldAcks(true) // the backlog is out, not yet acknowledged, when the disable comes
				c.start(cfg)
				await.True(t, wait, func() bool { return fc.Stored() == 1700 }, "backlog not sent")
				fc.HoldAcks(false)
				fc.Command(c.id.DeviceID, disableCmd("d1"), true)
				c.punch(0)
			}
			r := fc.WaitResult(t, "d1")
			if !r.OK || r.FinalSeq != ps[len(ps)-1].Seq {
				t.Fatalf("result %+v, want OK with final seq %d", r, ps[len(ps)-1].Seq)
			}
			select {
			case err := <-c.done:
				if !errors.Is(err, ErrDisabled) {
					t.Fatalf("Run: %v, want ErrDisabled", err)
				}
				c.done <- err
			case <-time.After(wait):
				t.Fatal("Run did not end after the disable")
			}
			d := c.dev.get()
			if d.disabling == nil || d.disabling.ID != "d1" || !d.finished || d.finalSeq != r.FinalSeq {
				t.Errorf("device: disabling %+v finished %v final %d", d.disabling, d.finished, d.finalSeq)
			}
			if c.j.Pending() != 0 || fc.Stored() != 1700 {
				t.Errorf("pending %d, cloud %d", c.j.Pending(), fc.Stored())
			}
			if _, any := finalOf(fc); !any {
				t.Error("no batch marked Final")
			}
			if st, _ := fc.LastStatus(); st.Online {
				t.Errorf("last check-in %+v, want offline", st)
			}
		})
	}
}

// TestDisableResumes: a clock that stopped in the middle of its last
// transmission resumes it at the next start (no command needed: the disable
// was persisted), and a Final batch goes even with nothing left to send.
func TestDisableResumes(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-resume")
	c.punch(3)
	cmd := disableCmd("d2")
	c.start(testConfig(), func(o *Options) { o.Disabling = &cmd })
	r := fc.WaitResult(t, "d2")
	if !r.OK || r.FinalSeq != 3 {
		t.Fatalf("result %+v", r)
	}
	if n, any := finalOf(fc); !any || n != 3 {
		t.Errorf("final batches carried %d punches (any %v), want 3", n, any)
	}
	// A clock with nothing pending still sends an (empty) Final batch.
	fc2 := fakecloud.New(t)
	c2 := newClock(t, fc2, "dev-empty")
	fc2.Command("dev-empty", disableCmd("d3"), true)
	c2.start(testConfig())
	if r := fc2.WaitResult(t, "d3"); !r.OK || r.FinalSeq != 0 {
		t.Fatalf("empty clock's result %+v", r)
	}
	if _, any := finalOf(fc2); !any {
		t.Error("no Final batch from an empty clock")
	}
}

// TestRefusedWhileDisabling: the cloud took the result and refuses the
// certificate, but the clock stopped before erasing its credentials; the
// next start finds itself refused and finishes the disable.
func TestRefusedWhileDisabling(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-refused")
	fc.Refuse("dev-refused", true)
	cmd := disableCmd("d4")
	c.start(testConfig(), func(o *Options) { o.Disabling = &cmd })
	select {
	case err := <-c.done:
		c.done <- err
		if !errors.Is(err, ErrDisabled) {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not end")
	}
	if !c.dev.get().finished {
		t.Error("the disable was not finished")
	}
}

// TestRefusedClockKeepsTrying: a clock the cloud refuses (not being
// disabled) keeps its punches and backs off; it does not fall back to the
// WebSocket for a refusal.
func TestRefusedClockKeepsTrying(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-no")
	fc.Refuse("dev-no", true)
	c.punch(2)
	c.start(testConfig())
	await.True(t, wait, func() bool { return countLog(c, "refused by the cloud") >= 3 }, "no retries after a refusal")
	if c.j.Pending() != 2 || c.s.Online() {
		t.Fatalf("pending %d online %v", c.j.Pending(), c.s.Online())
	}
	if countLog(c, "mqtt transport") != 0 {
		t.Error("a refusal moved the clock to the WebSocket")
	}
	fc.Refuse("dev-no", false)
	c.waitDrained(fc, 2)
}

// TestDisableDeliveredThenUnreachable: the cloud had the disable's result
// (the broker acknowledged it) when the clock stopped; a broker that then
// only drops the connection (Mosquitto with the certificate revoked) ends
// the disable too. Without a delivered result, an unreachable cloud is only
// an outage.
func TestDisableDeliveredThenUnreachable(t *testing.T) {
	for _, delivered := range []bool{true, false} {
		fc := fakecloud.New(t)
		c := newClock(t, fc, "dev-gone")
		cmd := disableCmd("d5")
		if delivered {
			h := handledLog{db: c.st.DB(), keep: time.Hour}
			must(t, h.markDelivered(wire.CommandResult{ID: "d5", OK: true}, time.Now()))
		}
		c.id.MQTT.TLS, c.id.MQTT.WebSocket = closedPort(t), "wss://"+closedPort(t)+"/mqtt"
		c.start(testConfig(), func(o *Options) { o.Disabling = &cmd })
		if delivered {
			select {
			case err := <-c.done:
				c.done <- err
				if !errors.Is(err, ErrDisabled) || !c.dev.get().finished {
					t.Fatalf("Run: %v, finished %v", err, c.dev.get().finished)
				}
			case <-time.After(wait):
				t.Fatal("the delivered disable did not finish")
			}
			continue
		}
		await.True(t, wait, func() bool { return countLog(c, "cloud unreachable") >= 3 }, "no retries")
		if c.dev.get().finished {
			t.Fatal("an outage finished a disable whose result the cloud never had")
		}
	}
}
