package cloudsync

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"timeclock/agent/roster"
	"timeclock/internal/await"
	"timeclock/internal/fakecloud"
	"timeclock/wire"
)

var salt = bytes.Repeat([]byte{7}, 16)

func rosterBody(t *testing.T, r wire.Roster) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(r)
	must(t, err)
	return b
}

func emp(id, name, badge, pin string) wire.RosterEmployee {
	e := wire.RosterEmployee{ID: id, Name: name, Active: true}
	if badge != "" {
		e.Badges = []string{badge}
	}
	if pin != "" {
		e.PINHash = roster.HashPIN(salt, pin)
	}
	return e
}

func TestCommands(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-cmd")
	c.start(testConfig())
	c.waitOnline()
	cmd := func(c wire.Command) wire.Command { c.Issued = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC); return c }

	// Rename and timezone reach the clock and are answered OK.
	fc.Command("dev-cmd", cmd(wire.Command{ID: "c1", Type: wire.CmdRename, Nickname: "  Loading dock "}), false)
	if r := fc.WaitResult(t, "c1"); !r.OK || r.Error != "" {
		t.Errorf("rename: %+v", r)
	}
	if got := c.dev.get().nickname; got != "Loading dock" {
		t.Errorf("nickname %q", got)
	}
	await.True(t, wait, func() bool { st, _ := fc.LastStatus(); return st.Nickname == "Loading dock" }, "the check-in does not report the new nickname")
	fc.Command("dev-cmd", cmd(wire.Command{ID: "c2", Type: wire.CmdTimezone, Timezone: "Europe/Paris"}), false)
	if r := fc.WaitResult(t, "c2"); !r.OK {
		t.Errorf("timezone: %+v", r)
	}
	if got := c.dev.get().tz; got != "Europe/Paris" {
		t.Errorf("timezone %q", got)
	}

	// The check-in says which roster the clock holds: none yet (0, not
	// absent: absent is a clock that does not say).
	if st, ok := fc.LastStatus(); !ok || st.RosterVersion == nil || *st.RosterVersion != 0 {
		t.Fatalf("check-in roster_version %v, want 0", st.RosterVersion)
	}

	// A full roster, then a delta on it.
	fc.Command("dev-cmd", cmd(wire.Command{ID: "r1", Type: wire.CmdRoster, Roster: rosterBody(t, wire.Roster{
		Version: 4, Full: true, Salt: salt, Employees: []wire.RosterEmployee{emp("E1", "Ada", "10001", "1234"), emp("E2", "Grace", "10002", "")},
	})}), false)
	if r := fc.WaitResult(t, "r1"); !r.OK || !strings.Contains(r.Detail, "version 4, 2 employees") {
		t.Fatalf("full roster: %+v", r)
	}
	if e, ok := c.roster.Current().ByPIN("1234"); !ok || e.ID != "E1" {
		t.Errorf("PIN of the pushed roster: %+v %v", e, ok)
	}
	fc.Command("dev-cmd", cmd(wire.Command{ID: "r2", Type: wire.CmdRoster, Roster: rosterBody(t, wire.Roster{
		Version: 5, BaseVersion: 4, Salt: salt, Employees: []wire.RosterEmployee{emp("E3", "Alan", "10003", "")}, Removed: []string{"E2"},
	})}), false)
	if r := fc.WaitResult(t, "r2"); !r.OK {
		t.Fatalf("delta: %+v", r)
	}
	cur := c.roster.Current()
	if _, ok := cur.ByBadge("10002"); ok || cur.Version() != 5 || cur.Len() != 2 {
		t.Errorf("after the delta: version %d, %d employees", cur.Version(), cur.Len())
	}
	await.True(t, wait, func() bool { st, _ := fc.LastStatus(); return st.RosterVersion != nil && *st.RosterVersion == 5 },
		"the check-in does not report roster version 5: %v", lazy(func() string { st, _ := fc.LastStatus(); return fmt.Sprint(st.RosterVersion) }))
	if _, ok := cur.ByBadge("10003"); !ok {
		t.Error("the delta's new employee is missing")
	}

	// Bad rosters are refused whole, and the roster in force stays.
	for _, tc := range []struct {
		id   string
		body json.RawMessage
		want string
	}{
		{"bad1", rosterBody(t, wire.Roster{Version: 6, Full: true, Salt: salt, Employees: []wire.RosterEmployee{
			emp("E1", "Ada", "10001", ""), emp("E9", "Bad", "12ab", "")}}), "badges[0]: must be digits only"},
		{"bad2", rosterBody(t, wire.Roster{Version: 7, BaseVersion: 3, Salt: salt}), "from version 3, the clock has version 5"},
		{"bad3", rosterBody(t, wire.Roster{Version: 6, BaseVersion: 5, Salt: bytes.Repeat([]byte{8}, 16)}), "another roster"},
		{"bad4", json.RawMessage(`{"version":8,"full":true,"salt":"AAAA","employees":[]}`), "salt"},
		{"bad5", rosterBody(t, wire.Roster{Version: 8, Full: true, Salt: salt, Employees: []wire.RosterEmployee{
			emp("E1", "Ada", "10001", "1111"), emp("E2", "Grace", "10001", "")}}), "already belongs"},
	} {
		fc.Command("dev-cmd", cmd(wire.Command{ID: tc.id, Type: wire.CmdRoster, Roster: tc.body}), false)
		r := fc.WaitResult(t, tc.id)
		if r.OK || !strings.Contains(r.Error, tc.want) {
			t.Errorf("%s: %+v, want an error with %q", tc.id, r, tc.want)
		}
	}
	if cur := c.roster.Current(); cur.Version() != 5 || cur.Len() != 2 {
		t.Errorf("a refused roster changed the roster: version %d, %d employees", cur.Version(), cur.Len())
	}
	// A full roster replaces the roster whatever its version.
	fc.Command("dev-cmd", cmd(wire.Command{ID: "r3", Type: wire.CmdRoster, Roster: rosterBody(t, wire.Roster{
		Version: 1, Full: true, Salt: salt, Employees: []wire.RosterEmployee{emp("E7", "Katherine", "10004", "")}})}), false)
	if r := fc.WaitResult(t, "r3"); !r.OK {
		t.Fatalf("full roster of a lower version: %+v", r)
	}
	if cur := c.roster.Current(); cur.Version() != 1 || cur.Len() != 1 {
		t.Errorf("after a full roster: version %d, %d employees", cur.Version(), cur.Len())
	}

	// Malformed and unknown commands get error results; one without an ID
	// cannot be answered and is dropped; the session goes on.
	fc.Raw("dev-cmd", wire.TopicCmd, []byte(`{"id":"u1","type":"selfdestruct"}`), false)
	if r := fc.WaitResult(t, "u1"); r.OK || !strings.Contains(r.Error, "unknown type") {
		t.Errorf("unknown: %+v", r)
	}
	fc.Raw("dev-cmd", wire.TopicCmd, []byte(`{"id":"m1","type":"timezone","timezone":"Mars/Olympus"}`), false)
	if r := fc.WaitResult(t, "m1"); r.OK || !strings.Contains(r.Error, "not an IANA zone") {
		t.Errorf("bad zone: %+v", r)
	}
	fc.Raw("dev-cmd", wire.TopicCmd, []byte(`{"id":"m2","type":"rename","nickname":`), false)
	fc.Raw("dev-cmd", wire.TopicCmd, []byte(`not json at all`), false)
	fc.Raw("dev-cmd", wire.TopicAck, []byte(`{"batch":1,"ids":["../../etc"]}`), false)
	fc.Command("dev-cmd", cmd(wire.Command{ID: "c3", Type: wire.CmdRename, Nickname: "Still here"}), false)
	if r := fc.WaitResult(t, "c3"); !r.OK {
		t.Errorf("after bad input: %+v", r)
	}
	if _, ok := fc.Result("m2"); ok {
		t.Error("a truncated command was answered by an ID it could not have read")
	}

	// Nothing secret reaches the log: no PIN hash of a pushed roster, no
	// part of the clock's key.
	for _, secret := range []string{base64.StdEncoding.EncodeToString(roster.HashPIN(salt, "1234")), "PRIVATE KEY", c.id.Key.D.String()} {
		if strings.Contains(c.logs.String(), secret) {
			t.Errorf("the sync log holds a secret (%.12s...)", secret)
		}
	}

	// A failure the clock meets is an error result too.
	c.dev.mu.Lock()
	c.dev.failTZ = true
	c.dev.mu.Unlock()
	fc.Command("dev-cmd", cmd(wire.Command{ID: "c4", Type: wire.CmdTimezone, Timezone: "Asia/Tokyo"}), false)
	if r := fc.WaitResult(t, "c4"); r.OK || !strings.Contains(r.Error, "disk full") {
		t.Errorf("failing timezone: %+v", r)
	}
}

// TestCommandsOnceByID: a command delivered again (retained, resent after
// a reconnect) is answered again but not carried out again; a reboot does
// not reboot twice, across a restart of the clock too.
func TestCommandsOnceByID(t *testing.T) {
	fc := fakecloud.New(t)
	c := newClock(t, fc, "dev-once")
	c.start(testConfig())
	c.waitOnline()
	fc.Command("dev-once", wire.Command{ID: "n1", Type: wire.CmdRename, Nickname: "A"}, true)
	fc.WaitResult(t, "n1")
	fc.Command("dev-once", wire.Command{ID: "b1", Type: wire.CmdReboot}, false)
	if r := fc.WaitResult(t, "b1"); !r.OK {
		t.Fatalf("reboot: %+v", r)
	}
	await.True(t, wait, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.reboots == 1 }, "no reboot")
	must(t, c.stop())

	// The clock comes back (the same state file): the retained rename is
	// delivered again at subscribe, and the cloud resends the reboot.
	c.start(testConfig())
	c.waitOnline()
	await.True(t, wait, func() bool { return fc.ResultCount("n1") >= 2 }, "the retained command was not answered again")
	fc.Command("dev-once", wire.Command{ID: "b1", Type: wire.CmdReboot}, false)
	await.True(t, wait, func() bool { return fc.ResultCount("b1") >= 2 }, "the resent reboot was not answered")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reboots != 1 {
		t.Errorf("%d reboots, want 1", c.reboots)
	}
	if got := c.dev.get().renames; len(got) != 1 {
		t.Errorf("renamed %d times: %v", len(got), got)
	}
}
