package cloudsync

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"timeclock/agent/roster"
	"timeclock/wire"
)

// FuzzRosterCommand: any roster body is either refused with an error or
// makes a roster that passes the roster package's own rules; it never
// panics, and a refused one never changes the roster in force.
func FuzzRosterCommand(f *testing.F) {
	full, _ := json.Marshal(wire.Roster{Version: 4, Full: true, Salt: salt, Employees: []wire.RosterEmployee{
		{ID: "E1", Name: "Ada", Badges: []string{"10001"}, PINHash: roster.HashPIN(salt, "1234"), Active: true}}})
	delta, _ := json.Marshal(wire.Roster{Version: 5, BaseVersion: 3, Salt: salt, Removed: []string{"E2"},
		Employees: []wire.RosterEmployee{{ID: "E3", Name: "Alan", Badges: []string{"0042"}, Departments: []string{"Shipping"}}}})
	for _, s := range [][]byte{full, delta, []byte(`{}`), []byte(`{"version":1,"full":true,"salt":"AAAAAAAAAAAAAAAAAAAAAA=="}`),
		[]byte(`{"version":2,"base_version":1,"salt":"BwcHBwcHBwcHBwcHBwcHBw==","employees":[{"id":"E1","name":"x","badges":["1","01"]}]}`),
		[]byte(`null`), []byte(`[`)} {
		f.Add(s)
	}
	cur, err := roster.New(3, salt, []roster.Employee{
		{ID: "E1", Name: "Ada", Badges: []string{"10001"}, Active: true},
		{ID: "E2", Name: "Grace", Badges: []string{"10002"}, PINHash: roster.HashPIN(salt, "2345"), Active: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := decodeRoster(body, cur)
		if err != nil {
			if r != nil {
				t.Fatal("a refused roster came with a roster")
			}
			if cur.Len() != 2 || cur.Version() != 3 {
				t.Fatal("a refused roster changed the current one")
			}
			return
		}
		again, err := roster.New(r.Version(), r.Salt(), r.Employees())
		if err != nil {
			t.Fatalf("accepted roster breaks the roster rules: %v", err)
		}
		if again.Len() != r.Len() || !bytes.Equal(again.Salt(), r.Salt()) {
			t.Fatal("accepted roster does not rebuild the same")
		}
	})
}

// FuzzInbound: any command or ack payload is handled without a panic: a
// command that does not decode yields an ID only when one is fit to answer
// to; an ack only settles punches that were sent.
func FuzzInbound(f *testing.F) {
	for _, s := range []string{
		`{"id":"c1","type":"rename","nickname":"Dock"}`, `{"id":"c2","type":"disable"}`, `{"id":"x/y","type":"reboot"}`,
		`{"id":"c3","type":"roster","roster":{"version":1}}`, `{"batch":3,"ids":["0011223344556677000000000000000a"],"high_seq":10}`,
		`{"batch":1,"ids":[]}`, `{"id":"","type":""}`, `{"id":7}`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		if _, err := wire.DecodeCommand(payload); err != nil {
			if id := commandID(payload); id != "" {
				if _, err := wire.DecodeCommandResult(mustJSON(wire.CommandResult{ID: id, Error: "x"})); err != nil {
					t.Fatalf("answering ID %q makes a result the cloud refuses: %v", id, err)
				}
			}
		}
		a, err := wire.DecodeAck(payload)
		if err != nil {
			return
		}
		o := newOutbox(0)
		o.add([]wire.Punch{{ID: "0011223344556677000000000000000a", Seq: 10}}, false, time.Unix(0, 0))
		o.add(nil, true, time.Unix(0, 0))
		o.acked(a)
		// Batch 1 (one punch) is settled by an ack naming its punch,
		// whatever the ack's number; batch 2 (empty, Final) only by its
		// number.
		if _, out := o.flights[1]; out == slices.Contains(a.IDs, "0011223344556677000000000000000a") {
			t.Fatalf("batch 1 out %v after an ack naming %q", out, a.IDs)
		}
		if _, out := o.flights[2]; out == (a.Batch == 2) {
			t.Fatalf("batch 2 out %v after the ack of batch %d", out, a.Batch)
		}
	})
}
