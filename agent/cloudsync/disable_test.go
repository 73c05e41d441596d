package cloudsync

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
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
			// The broker acknowledges the goodbye before it hands the message
			// to the cloud's subscriber (mochi writes the PUBACK first): Run
			// can end before the cloud has read it.
			await.True(t, wait, func() bool { st, ok := fc.LastStatus(); return ok && !st.Online },
				"the last check-in is not offline: %v", lazy(func() string { st, _ := fc.LastStatus(); return fmt.Sprintf("%+v", st) }))
			// The last transmission is every punch pending when the disable
			// came (offline: the 1700, out in ordinary batches when the
			// retained command came; online: those the released acks had
			// not settled yet), and the result and the log say so.
			logs := c.logs.String()
			m := regexp.MustCompile(`one last transmission, then the credentials are erased" by=\S+ pending=(\d+)`).FindStringSubmatch(logs)
			if m == nil {
				t.Fatalf("no disable line with the pending count:\n%s", logs)
			}
			want, _ := strconv.Atoi(m[1])
			if offline && want != 1700 {
				t.Errorf("offline: pending %d at the disable, want 1700", want)
			}
			if r.Detail != fmt.Sprintf("last transmission: %d punches", want) {
				t.Errorf("result detail %q, want the %d punches it carried", r.Detail, want)
			}
			if !strings.Contains(logs, fmt.Sprintf("erasing the credentials\" final_seq=1700 by=admin@demo.example punches=%d", want)) {
				t.Errorf("the log does not say what the last transmission carried:\n%s", logs)
			}
		})
	}
}

// lazy is text made when a failure message is printed (after a wait).
type lazy func() string

func (l lazy) String() string { return l() }

// TestLastTransmissionCarriesPunchesAlreadyOut: punches sent just before
// the disable and not yet acknowledged are the last transmission's; the
// log and the result count them instead of "punches=0" for the empty Final
// batch that closes it.
func TestLastTransmissionCarriesPunchesAlreadyOut(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-out")
	cfg := testConfig()
	cfg.AckTimeout = 300 * time.Millisecond
	fc.HoldAcks(true)
	c.start(cfg)
	c.waitOnline()
	c.punch(2)
	await.True(t, wait, func() bool { return fc.Stored() == 2 }, "punches not sent")
	fc.Command(c.id.DeviceID, disableCmd("d4"), true)
	await.True(t, wait, func() bool { return strings.Contains(c.logs.String(), "already_out=2") }, "the disable did not see the 2 punches out")
	fc.HoldAcks(false)
	r := fc.WaitResult(t, "d4")
	if !r.OK || r.Detail != "last transmission: 2 punches" {
		t.Errorf("result %+v, want the 2 punches", r)
	}
	logs := c.logs.String()
	for _, w := range []string{"pending=2 already_out=2", "the punches already out close it once acknowledged\" already_out=2", "punches=2"} {
		if !strings.Contains(logs, w) {
			t.Errorf("log lacks %q:\n%s", w, logs)
		}
	}
	if strings.Contains(logs, "punches=0") {
		t.Errorf("the log says punches=0 for a last transmission of 2:\n%s", logs)
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
