package cloud

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/cloud/synctest"
	"timeclock/internal/await"
	"timeclock/wire"
)

func TestSyncPunchesStoredOnceAndAcked(t *testing.T) {
	for _, kind := range brokers {
		t.Run(kind, func(t *testing.T) {
			c := startCloud(t, kind)
			a := c.onboard("SIM-A")
			if !strings.HasPrefix(a.Endpoints.TLS, "localhost:") || !strings.HasPrefix(a.Endpoints.WebSocket, "wss://localhost:") {
				t.Fatalf("endpoints handed out: %+v", a.Endpoints)
			}
			d := c.clock(a, false)
			// The check-in reaches the registry.
			await.True(t, 10*time.Second, func() bool { r, _ := c.row(a.DeviceID); return r.Online && !r.LastCheckedIn.IsZero() },
				"the clock's check-in never showed on the devices page")
			ps := d.Punch(3, "E100")
			await.True(t, 10*time.Second, func() bool { return d.Pending() == 0 }, "punches never acked")
			got := c.stored(a.DeviceID)
			if len(got.Punches) != 3 || got.Punches[0].ID != ps[0].ID || got.Punches[0].Employee != "E100" {
				t.Fatalf("stored %+v", got)
			}
			// Last Used By names her: E100 is Ada Lovelace in the demo roster.
			if r, _ := c.row(a.DeviceID); r.LastUsedBy != "Ada Lovelace" || r.Punches != 3 {
				t.Fatalf("row after punches %+v", r)
			}
			// The same batch again (an ack lost): acked again, stored once.
			again, _ := json.Marshal(wire.PunchBatch{Batch: 99, Punches: ps})
			n := len(d.Acks())
			if err := d.Publish(wire.Topic(a.DeviceID, wire.TopicPunches), again, false); err != nil {
				t.Fatal(err)
			}
			await.True(t, 10*time.Second, func() bool { return len(d.Acks()) > n }, "a resent batch was not acked")
			if ack := d.Acks()[n]; ack.Batch != 99 || len(ack.IDs) != 3 || ack.HighSeq != 3 {
				t.Fatalf("ack of the resend %+v", ack)
			}
			if got := c.stored(a.DeviceID); len(got.Punches) != 3 {
				t.Fatalf("the resend was stored again: %d punches", len(got.Punches))
			}

			// A second clock over the secure WebSocket (59777 blocked).
			b := c.onboard("SIM-B")
			dw := c.clock(b, true)
			dw.Punch(2, "E101")
			await.True(t, 10*time.Second, func() bool { return dw.Pending() == 0 }, "punches over wss never acked")

			// A clock publishing to another clock's topic gets nothing in.
			forged, _ := json.Marshal(wire.PunchBatch{Batch: 1, Punches: []wire.Punch{{ID: "forged-1", Seq: 1, Employee: "E666",
				Kind: wire.KindIn, Time: time.Now().UTC(), TZ: "UTC"}}})
			d.Send(wire.Topic(b.DeviceID, wire.TopicPunches), forged)
			d.Send(wire.Topic(b.DeviceID, wire.TopicStatus), []byte(`{"device_id":"`+b.DeviceID+`","online":true,"last_used_by":"forger"}`))
			// A's next punch arrives after the forged ones would have.
			await.True(t, 15*time.Second, d.Connected, "clock A did not reconnect")
			d.Punch(1, "E100")
			await.True(t, 15*time.Second, func() bool { return len(c.stored(a.DeviceID).Punches) == 4 }, "A's marker punch never arrived")
			if got := c.stored(b.DeviceID); len(got.Punches) != 2 {
				t.Fatalf("B has %d punches, want its own 2: %+v", len(got.Punches), got)
			}
			if r, _ := c.row(b.DeviceID); r.LastUsedBy == "forger" {
				t.Fatal("A changed B's check-in")
			}
			if strings.Contains(c.log.String(), c.info.AdminToken) {
				t.Fatal("the admin token is in the log")
			}
		})
	}
}

func TestSyncBrokerRestartsLoseNothingDoubleNothing(t *testing.T) {
	for _, kind := range brokers {
		t.Run(kind, func(t *testing.T) {
			c := startCloud(t, kind)
			id := c.onboard("SIM-R")
			d := c.clock(id, false)
			d.BatchSize = 7
			total := 0
			for i := range 4 {
				d.Punch(60, fmt.Sprintf("E%03d", i))
				total += 60
				c.restartBroker(i)
			}
			d.Punch(10, "E999")
			total += 10
			await.True(t, 60*time.Second, func() bool { return d.Pending() == 0 }, "%d punches still unacked after the restarts", d.Pending())
			got := c.stored(id.DeviceID)
			seen := map[string]bool{}
			for _, p := range got.Punches {
				if seen[p.ID] {
					t.Fatalf("punch %s stored twice", p.ID)
				}
				seen[p.ID] = true
			}
			if len(got.Punches) != total {
				t.Fatalf("stored %d punches, want %d", len(got.Punches), total)
			}
			if r, _ := c.row(id.DeviceID); r.Punches != uint64(total) {
				t.Fatalf("the device's punch count is %d, want %d (a resend counted twice?)", r.Punches, total)
			}
			if d.Connects() < 2 {
				t.Errorf("the clock connected %d times; the restarts did not reach it", d.Connects())
			}
		})
	}
}

// lastTransmission makes d answer a disable as a clock does: everything
// pending goes up marked final, and once acked the result reports the last
// acknowledged sequence number; then it forgets its credentials (stops).
//
// A command can come more than once (the retained message and the outbox's
// resend at the check-in): like a clock, it acts on an ID once.
func lastTransmission(t *testing.T, d *synctest.Device, pending int) chan wire.Command {
	got := make(chan wire.Command, 4)
	var mu sync.Mutex
	handled := map[string]bool{}
	d.OnCommand(func(c wire.Command) {
		if c.Type != wire.CmdDisable {
			d.Answer(wire.CommandResult{ID: c.ID, OK: true})
			return
		}
		mu.Lock()
		again := handled[c.ID]
		handled[c.ID] = true
		mu.Unlock()
		if again {
			return
		}
		got <- c
		d.SetFinal(true)
		d.Punch(pending, "E102")
		d.WaitAcked(20 * time.Second)
		d.Answer(wire.CommandResult{ID: c.ID, OK: true, FinalSeq: d.HighSeq()})
	})
	return got
}

func checkDisabled(t *testing.T, c *cloudEnv, id synctest.Identity, wantPunches int) {
	t.Helper()
	await.True(t, 20*time.Second, func() bool { r, _ := c.row(id.DeviceID); return r.Status == "disabled" },
		"the device never became disabled")
	r, _ := c.row(id.DeviceID)
	if r.DisabledBy != "admin@demo.example" || r.DisabledDate.IsZero() || r.LastTransmission != "received" || r.FinalSeq != uint64(wantPunches) {
		t.Fatalf("disabled row %+v", r)
	}
	var l deviceList
	c.api("GET", "/api/v1/devices", "", &l)
	for _, a := range l.Approved {
		if a.ID == id.DeviceID {
			t.Fatal("still listed as approved")
		}
	}
	got := c.stored(id.DeviceID)
	if len(got.Punches) != wantPunches {
		t.Fatalf("stored %d punches, want %d", len(got.Punches), wantPunches)
	}
	if !got.Punches[len(got.Punches)-1].Final {
		t.Error("the last transmission's punches are not marked final")
	}
	// The old certificate is refused from now on (Mosquitto: once reloaded).
	await.True(t, 15*time.Second, func() bool {
		d := synctest.NewDevice(id.DeviceID, id.TLS.Clone())
		err := d.Connect(id.TLSURL())
		d.Close()
		return err != nil
	}, "the disabled clock's certificate still connects")
}

func TestSyncDisableOnline(t *testing.T) {
	for _, kind := range brokers {
		t.Run(kind, func(t *testing.T) {
			c := startCloud(t, kind)
			id := c.onboard("SIM-D")
			var cmds chan wire.Command
			d := c.clock(id, false, func(d *synctest.Device) { cmds = lastTransmission(t, d, 4) })
			d.Punch(2, "E100")
			await.True(t, 10*time.Second, func() bool { return d.Pending() == 0 }, "punches never acked")
			var row deviceRow
			if we := c.api("POST", "/api/v1/devices/"+id.DeviceID+"/disable", "", &row); we != nil {
				t.Fatal(we)
			}
			if row.Status != "disabling" || row.DisabledBy != "admin@demo.example" || row.LastTransmission != "waiting" {
				t.Fatalf("after disable %+v", row)
			}
			select {
			case cmd := <-cmds:
				if cmd.By != "admin@demo.example" {
					t.Errorf("disable command %+v", cmd)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("the clock never got the disable command")
			}
			checkDisabled(t, c, id, 6)
		})
	}
}

func TestSyncDisableWhileOffline(t *testing.T) {
	for _, kind := range brokers {
		t.Run(kind, func(t *testing.T) {
			c := startCloud(t, kind)
			id := c.onboard("SIM-O")
			if we := c.api("POST", "/api/v1/devices/"+id.DeviceID+"/disable", "", nil); we != nil {
				t.Fatal(we)
			}
			// The cloud restarts while it waits: the command survives.
			c.restartCloud()
			// The clock connects for the first time after the disable.
			d := synctest.NewDevice(id.DeviceID, id.TLS.Clone())
			d.ResendAfter = 500 * time.Millisecond
			cmds := lastTransmission(t, d, 3)
			d.Run(id.TLSURL())
			t.Cleanup(d.Close)
			select {
			case <-cmds:
			case <-time.After(15 * time.Second):
				t.Fatal("the clock connecting after the disable never got it")
			}
			checkDisabled(t, c, id, 3)
			// The retained command is gone: a new identity of this clock
			// (onboarded again, once an administrator enabled it) is not
			// disabled by it.
			if _, err := c.info.Registry.Enable(context.Background(), c.info.CompanyID, id.DeviceID, "admin@demo.example"); err != nil {
				t.Fatal(err)
			}
			again := c.onboard("SIM-O")
			if again.DeviceID != id.DeviceID {
				t.Fatalf("onboarded again as %s, was %s", again.DeviceID, id.DeviceID)
			}
			d2 := c.clock(again, false)
			d2.Punch(1, "E100")
			await.True(t, 10*time.Second, func() bool { return d2.Pending() == 0 }, "the clock onboarded again cannot sync")
			if _, ok := d2.Command(wire.CmdDisable); ok {
				t.Fatal("the clock onboarded again got the old disable")
			}
			if r, _ := c.row(id.DeviceID); r.Status != "approved" {
				t.Fatalf("after onboarding again: %+v", r)
			}
		})
	}
}

func TestSyncRosterPushed(t *testing.T) {
	for _, kind := range brokers {
		t.Run(kind, func(t *testing.T) {
			c := startCloud(t, kind)
			id := c.onboard("SIM-S")
			d := c.clock(id, false, func(d *synctest.Device) {
				d.OnCommand(func(cmd wire.Command) { d.Answer(wire.CommandResult{ID: cmd.ID, OK: true}) })
			})
			roster := func(n int) wire.Roster {
				t.Helper()
				var r wire.Roster
				await.True(t, 15*time.Second, func() bool {
					var cs []wire.Command
					for _, cmd := range d.Commands() {
						if cmd.Type == wire.CmdRoster {
							cs = append(cs, cmd)
						}
					}
					if len(cs) < n {
						return false
					}
					var err error
					r, err = wire.DecodeRoster(cs[n-1].Roster)
					if err != nil {
						t.Fatalf("roster command: %v", err)
					}
					return true
				}, "roster command %d never came", n)
				return r
			}
			// The demo roster, in full, at the first check-in.
			r := roster(1)
			if !r.Full || r.Version != 1 || len(r.Employees) != 5 {
				t.Fatalf("first roster %+v", r)
			}
			await.True(t, 10*time.Second, func() bool { row, _ := c.row(id.DeviceID); return row.RosterVersion == 1 }, "the clock's roster version never showed")
			// A change: the clocks get a delta.
			if we := c.api("PATCH", "/api/v1/roster", `{"upsert":[{"id":"E105","name":"Margaret Hamilton","badges":["10006"],"pin":"6789"}],"remove":["E104"]}`, nil); we != nil {
				t.Fatal(we)
			}
			r = roster(2)
			if r.Full || r.BaseVersion != 1 || r.Version != 2 || len(r.Employees) != 1 || r.Employees[0].ID != "E105" || len(r.Removed) != 1 {
				t.Fatalf("delta %+v", r)
			}
			if strings.Contains(c.log.String(), "6789") {
				t.Fatal("a PIN in the log")
			}
		})
	}
}
