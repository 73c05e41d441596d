package registry_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/cloud/bus/bustest"
	"timeclock/cloud/registry"
	"timeclock/cloud/roster"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/internal/syncbuf"
	"timeclock/wire"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// gate records what the registry asked of the broker.
type gate struct {
	mu      sync.Mutex
	refused []string
	changed int
}

func (g *gate) Refuse(_ context.Context, id string) error {
	g.mu.Lock()
	g.refused = append(g.refused, id)
	g.mu.Unlock()
	return nil
}

func (g *gate) Changed(context.Context) error {
	g.mu.Lock()
	g.changed++
	g.mu.Unlock()
	return nil
}

type fixture struct {
	st   store.Store
	clk  *clock.Fake
	bus  *bustest.Bus
	gate *gate
	reg  *registry.Registry
	log  *syncbuf.Buffer
}

func setup(t testing.TB) *fixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, clk: clock.NewFake(t0), bus: &bustest.Bus{}, gate: &gate{}, log: &syncbuf.Buffer{}}
	log := slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.reg, err = registry.New(registry.DefaultConfig(), registry.Deps{Store: st, Clock: f.clk, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	f.put(t, store.Device{ID: "d1", CompanyID: "1", Serial: "S1", Model: "BN6500", Nickname: "Front door", Status: store.DeviceApproved, CertSerial: "ab12"})
	f.put(t, store.Device{ID: "d2", CompanyID: "1", Serial: "S2", Model: "BN6500", Nickname: "Back door", Status: store.DeviceApproved, CertSerial: "cd34"})
	f.put(t, store.Device{ID: "x1", CompanyID: "2", Serial: "S1", Status: store.DeviceApproved})
	if err := f.reg.Start(context.Background(), f.bus, f.gate); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) put(t testing.TB, d store.Device) {
	t.Helper()
	if err := f.st.Update(context.Background(), func(tx store.Tx) error { return tx.PutDevice(d) }); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) dev(t testing.TB, id string) store.Device {
	t.Helper()
	var d store.Device
	f.st.View(context.Background(), func(tx store.Tx) (err error) { d, err = tx.Device(id); return err })
	return d
}

func (f *fixture) commands(t *testing.T, id string) []store.Command {
	t.Helper()
	var cs []store.Command
	f.st.View(context.Background(), func(tx store.Tx) (err error) { cs, err = tx.Commands(id); return err })
	return cs
}

func (f *fixture) status(id string, s wire.Status) {
	if s.DeviceID == "" {
		s.DeviceID = id
	}
	b, _ := json.Marshal(s)
	f.bus.Deliver(wire.Topic(id, wire.TopicStatus), b)
}

func (f *fixture) result(id string, r wire.CommandResult) {
	b, _ := json.Marshal(r)
	f.bus.Deliver(wire.Topic(id, wire.TopicCmdResult), b)
}

// sent decodes the commands published to a device.
func (f *fixture) sent(t *testing.T, id string) []wire.Command {
	t.Helper()
	var out []wire.Command
	for _, m := range f.bus.Published(wire.Topic(id, wire.TopicCmd)) {
		if len(m.Payload) == 0 {
			continue
		}
		c, err := wire.DecodeCommand(m.Payload)
		if err != nil {
			t.Fatalf("the clock could not decode a command: %v\n%s", err, m.Payload)
		}
		out = append(out, c)
	}
	return out
}

func TestDisableWithLastTransmission(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	if !f.reg.Allowed("d1", "AB12") || f.reg.Allowed("d1", "ffff") || f.reg.Allowed("nobody", "") {
		t.Fatal("Allowed before disable is wrong")
	}
	if _, err := f.reg.Disable(ctx, "2", "d1", "mallory@other", false); err == nil {
		t.Fatal("another company disabled d1")
	}
	d, err := f.reg.Disable(ctx, "1", "d1", "dana@demo.example", false)
	if err != nil || d.Status != store.DeviceDisabling || d.DisabledBy != "dana@demo.example" || !d.DisabledAt.Equal(t0) {
		t.Fatalf("Disable: %+v %v", d, err)
	}
	msgs := f.bus.Published(wire.Topic("d1", wire.TopicCmd))
	if len(msgs) != 1 || !msgs[0].Retain {
		t.Fatalf("want one retained command, got %+v", msgs)
	}
	cmd := f.sent(t, "d1")[0]
	if cmd.Type != wire.CmdDisable || cmd.ID != d.DisableCmd || cmd.By != "dana@demo.example" {
		t.Fatalf("command %+v", cmd)
	}
	// Still allowed in: its last transmission is to come.
	if !f.reg.Allowed("d1", "ab12") {
		t.Fatal("a disabling clock was refused before its last transmission")
	}
	// Disable again: nothing new.
	if d2, _ := f.reg.Disable(ctx, "1", "d1", "other@demo.example", false); d2.DisabledBy != "dana@demo.example" || len(f.bus.Published(wire.Topic("d1", wire.TopicCmd))) != 1 {
		t.Fatal("a second disable changed something")
	}
	// A result for something else, and a failed result, change nothing.
	f.result("d1", wire.CommandResult{ID: "not-a-command", OK: true})
	f.result("d1", wire.CommandResult{ID: cmd.ID, OK: false, Error: "journal busy"})
	if f.dev(t, "d1").Status != store.DeviceDisabling || len(f.commands(t, "d1")) != 1 {
		t.Fatal("a failed result ended the disable")
	}
	// The clock drained, got its acks, and answers.
	f.result("d1", wire.CommandResult{ID: cmd.ID, OK: true, FinalSeq: 42})
	d = f.dev(t, "d1")
	if d.Status != store.DeviceDisabled || d.FinalSeq != 42 || !d.DisableDoneAt.Equal(t0) || d.RevokedSerials[0] != "ab12" {
		t.Fatalf("after the result: %+v", d)
	}
	msgs = f.bus.Published(wire.Topic("d1", wire.TopicCmd))
	if last := msgs[len(msgs)-1]; !last.Retain || len(last.Payload) != 0 {
		t.Fatalf("retained command not cleared: %+v", last)
	}
	if f.gate.refused[0] != "d1" || f.reg.Allowed("d1", "ab12") {
		t.Fatal("the disabled clock is not refused")
	}
	if len(f.commands(t, "d1")) != 0 {
		t.Fatal("the disable command stayed in the outbox")
	}
	if !strings.Contains(f.log.String(), "device disabling -> disabled (last transmission acknowledged)") {
		t.Errorf("log lacks the state change:\n%s", f.log)
	}
}

func TestDisableWhileOfflineWaitsForTheClock(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.bus.FailPublishes(errFake)
	if _, err := f.reg.Disable(ctx, "1", "d2", "dana@demo.example", false); err != nil {
		t.Fatal(err)
	}
	f.bus.FailPublishes(nil)
	// The cloud restarts: the retained command is published again.
	f.reg.Republish(ctx)
	if got := f.sent(t, "d2"); len(got) != 1 || got[0].Type != wire.CmdDisable {
		t.Fatalf("after republish: %+v", got)
	}
	// The clock comes online: the outbox sends it again too.
	f.status("d2", wire.Status{Online: true})
	if got := f.sent(t, "d2"); len(got) != 2 {
		t.Fatalf("check-in did not resend the disable: %+v", got)
	}
}

func TestDisableNow(t *testing.T) {
	f := setup(t)
	d, err := f.reg.Disable(context.Background(), "1", "d2", "dana@demo.example", true)
	if err != nil || d.Status != store.DeviceDisabled || !d.DisableForced || f.reg.Allowed("d2", "cd34") {
		t.Fatalf("disable now: %+v %v", d, err)
	}
	if len(f.gate.refused) != 1 {
		t.Fatal("not refused at the broker")
	}
}

var errFake = &registry.InputError{Msg: "broker down"}

func TestStatusUpdatesTheRegistry(t *testing.T) {
	f := setup(t)
	f.status("d1", wire.Status{Online: true, Model: "BN6500", Firmware: "1.4.0", LastUsedBy: "E100", Pending: 3,
		OldestAge: 120, NTPSynced: true, Interface: "eth0", Nickname: "Front door", Storage: "storage lost at 2026-11-23T09:00:00Z: the state file is empty"})
	d := f.dev(t, "d1")
	if !d.Online || d.Firmware != "1.4.0" || d.LastUsedBy != "E100" || d.Pending != 3 || d.OldestAge != 120 ||
		!d.NTPSynced || d.Interface != "eth0" || !d.LastCheckedIn.Equal(t0) || !strings.HasPrefix(d.Storage, "storage lost") {
		t.Fatalf("after check-in: %+v", d)
	}
	f.clk.Advance(time.Minute)
	f.status("d1", wire.Status{Online: false}) // the last will
	if d := f.dev(t, "d1"); d.Online || !d.LastCheckedIn.Equal(t0) || d.Firmware != "1.4.0" || d.Storage == "" {
		t.Fatalf("after the will: %+v", d)
	}
	// Dropped: another device's ID in the payload, garbage, unknown device.
	f.status("d1", wire.Status{DeviceID: "d2", Online: true})
	f.bus.Deliver(wire.Topic("d1", wire.TopicStatus), []byte(`{"device_id":`))
	f.status("nobody", wire.Status{Online: true})
	f.bus.Deliver(wire.Topic("d1", wire.TopicStatus), nil)
	if d := f.dev(t, "d1"); d.Online {
		t.Fatal("a dropped status changed the device")
	}
	for _, w := range []string{"status dropped: it names another device", "status dropped", "status from an unknown device"} {
		if !strings.Contains(f.log.String(), w) {
			t.Errorf("log lacks %q", w)
		}
	}
	f.status("d1", wire.Status{Online: true}) // service cleared the notice at the clock
	if d := f.dev(t, "d1"); d.Storage != "" {
		t.Fatalf("storage notice kept after a check-in without it: %q", d.Storage)
	}
}

func TestCommandsWaitForTheClock(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.bus.FailPublishes(errFake)
	if _, err := f.reg.Rename(ctx, "1", "d1", "  Loading dock ", "dana@demo.example"); err != nil {
		t.Fatal(err)
	}
	f.bus.FailPublishes(nil)
	if d := f.dev(t, "d1"); d.Nickname != "Loading dock" {
		t.Fatalf("nickname %q", d.Nickname)
	}
	f.status("d1", wire.Status{Online: true, Nickname: "Front door"})
	got := f.sent(t, "d1")
	if len(got) != 1 || got[0].Type != wire.CmdRename || got[0].Nickname != "Loading dock" {
		t.Fatalf("sent %+v", got)
	}
	// Another check-in soon after: not sent again; later: sent again.
	f.status("d1", wire.Status{Online: true, Nickname: "Front door"})
	if len(f.sent(t, "d1")) != 1 {
		t.Fatal("resent at once")
	}
	f.clk.Advance(3 * time.Minute)
	f.status("d1", wire.Status{Online: true, Nickname: "Front door"})
	if len(f.sent(t, "d1")) != 2 {
		t.Fatal("not resent after ResendAfter")
	}
	f.result("d1", wire.CommandResult{ID: got[0].ID, OK: true})
	f.clk.Advance(3 * time.Minute)
	f.status("d1", wire.Status{Online: true, Nickname: "Loading dock"})
	if len(f.sent(t, "d1")) != 2 || len(f.commands(t, "d1")) != 0 {
		t.Fatal("an answered command was sent again")
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 65), "a\nb"} {
		if _, err := f.reg.Rename(ctx, "1", "d1", bad, "x"); err == nil {
			t.Errorf("nickname %q accepted", bad)
		}
	}
	if _, err := f.reg.SendCommand(ctx, "1", "d1", wire.CmdTimezone, "Mars/Base", "x"); err == nil {
		t.Error("a bad time zone accepted")
	}
	if _, err := f.reg.SendCommand(ctx, "1", "d1", wire.CmdDisable, "", "x"); err == nil {
		t.Error("a disable through SendCommand accepted")
	}
	c, err := f.reg.SendCommand(ctx, "1", "d1", wire.CmdTimezone, "Europe/Paris", "x")
	if err != nil || f.sent(t, "d1")[2].Timezone != "Europe/Paris" || c.Cmd.Type != wire.CmdTimezone {
		t.Fatalf("timezone: %v", err)
	}
}

func pin(s string) *string { return &s }

// rosterChange changes company 1's roster as the admin "dana" and tells
// the registry, which queues the roster commands.
func (f *fixture) rosterChange(t *testing.T, ch roster.Change) {
	t.Helper()
	ctx := context.Background()
	if _, err := roster.Update(ctx, f.st, "1", ch, "dana", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.RosterChanged(ctx, "1", "dana"); err != nil {
		t.Fatal(err)
	}
}

func TestRosterPushedAndCaughtUp(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.rosterChange(t, roster.Change{Full: true, Upsert: []roster.Employee{{ID: "E100", Name: "Ada", Badges: []string{"10001"}, PIN: pin("1234")}}})
	rosterOf := func(c wire.Command) wire.Roster {
		t.Helper()
		r, err := wire.DecodeRoster(c.Roster)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, id := range []string{"d1", "d2"} {
		got := f.sent(t, id)
		if len(got) != 1 || got[0].Type != wire.CmdRoster || !rosterOf(got[0]).Full || rosterOf(got[0]).Version != 1 {
			t.Fatalf("%s got %+v", id, got)
		}
	}
	if len(f.sent(t, "x1")) != 0 {
		t.Fatal("another company's clock got the roster")
	}
	if strings.Contains(f.log.String(), "1234") {
		t.Fatal("a PIN in the log")
	}
	f.result("d1", wire.CommandResult{ID: f.sent(t, "d1")[0].ID, OK: true})
	if v := f.dev(t, "d1").RosterVersion; v != 1 {
		t.Fatalf("d1 roster version %d", v)
	}
	// d1 confirmed 1: a delta; d2 never answered: full again.
	f.rosterChange(t, roster.Change{Upsert: []roster.Employee{{ID: "E101", Name: "Grace", Badges: []string{"10002"}}}})
	r1 := rosterOf(f.sent(t, "d1")[1])
	if r1.Full || r1.BaseVersion != 1 || r1.Version != 2 || len(r1.Employees) != 1 {
		t.Fatalf("d1 delta %+v", r1)
	}
	if r2 := rosterOf(f.sent(t, "d2")[1]); !r2.Full || r2.Version != 2 || len(f.commands(t, "d2")) != 1 {
		t.Fatalf("d2 %+v, outbox %d", r2, len(f.commands(t, "d2")))
	}
	// d1 refuses the delta (its roster moved): a full one follows.
	f.result("d1", wire.CommandResult{ID: f.sent(t, "d1")[1].ID, OK: false, Error: "roster: delta does not apply"})
	if got := f.sent(t, "d1"); len(got) != 3 || !rosterOf(got[2]).Full {
		t.Fatalf("after a refused delta: %+v", got)
	}
	// d1 refuses the full one too: not sent again at check-ins.
	f.result("d1", wire.CommandResult{ID: f.sent(t, "d1")[2].ID, OK: false, Error: "employees[0]: bad"})
	f.clk.Advance(time.Hour)
	f.status("d1", wire.Status{Online: true, Nickname: "Front door"})
	if got := f.sent(t, "d1"); len(got) != 3 {
		t.Fatalf("a refused full roster was sent again: %d", len(got))
	}
	// A clock onboarded again gets the roster at its first check-in.
	f.reg.Activated(ctx, "d1")
	f.status("d1", wire.Status{Online: true, Nickname: "Front door"})
	if got := f.sent(t, "d1"); len(got) != 4 || !rosterOf(got[3]).Full {
		t.Fatalf("after onboarding again: %d", len(got))
	}
}

func TestActivatedDropsTheOldIdentitysCommands(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	f.reg.Disable(ctx, "1", "d1", "dana", false)
	// Onboarded again (onboarding made it approved with a new certificate).
	d := f.dev(t, "d1")
	d.Status, d.CertSerial, d.RevokedSerials = store.DeviceApproved, "ef56", []string{"ab12"}
	f.put(t, d)
	f.reg.Activated(ctx, "d1")
	if len(f.commands(t, "d1")) != 0 {
		t.Fatal("the old disable is still in the outbox")
	}
	msgs := f.bus.Published(wire.Topic("d1", wire.TopicCmd))
	if last := msgs[len(msgs)-1]; !last.Retain || len(last.Payload) != 0 {
		t.Fatal("the retained disable was not cleared")
	}
	if f.gate.changed != 1 || !f.reg.Allowed("d1", "ef56") || f.reg.Allowed("d1", "ab12") {
		t.Fatal("the gate or Allowed is wrong after onboarding again")
	}
}

// Whatever a clock sends on status and cmd/result, the registry neither
// panics nor changes another device.
func FuzzHandlers(f *testing.F) {
	for _, s := range []string{`{"device_id":"d1","online":true,"nickname":"X"}`, `{"id":"c1","ok":true,"final_seq":3}`,
		`{"device_id":"d2","online":true}`, `{"device_id":"d1","online":true,"roster_version":0}`, `{"device_id":"d1","online":true,"roster_version":18446744073709551615}`, `{`, ``, `null`, `{"id":"` + strings.Repeat("a", 70) + `"}`} {
		f.Add([]byte(s))
	}
	fx := setup(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		fx.bus.Deliver(wire.Topic("d1", wire.TopicStatus), b)
		fx.bus.Deliver(wire.Topic("d1", wire.TopicCmdResult), b)
		if d := fx.dev(t, "d2"); d.Online || d.Status != store.DeviceApproved {
			t.Fatalf("d2 changed: %+v", d)
		}
	})
}

func rv(v uint64) *uint64 { return &v }

// A clock that confirmed a roster and then checks in holding another
// version (0: its state file was salvaged or lost) gets the full roster at
// once; a clock that does not report its version is believed as before.
func TestRosterLostAtTheClockIsSentAgain(t *testing.T) {
	f := setup(t)
	// Roster versions 1..3; d1 and d2 confirm each.
	for i, e := range []roster.Employee{
		{ID: "E100", Name: "Ada", Badges: []string{"10001"}, PIN: pin("1234")},
		{ID: "E101", Name: "Grace", Badges: []string{"10002"}},
		{ID: "E102", Name: "Alan", Badges: []string{"10003"}},
	} {
		f.rosterChange(t, roster.Change{Full: i == 0, Upsert: []roster.Employee{e}})
		for _, id := range []string{"d1", "d2"} {
			got := f.sent(t, id)
			f.result(id, wire.CommandResult{ID: got[len(got)-1].ID, OK: true})
		}
	}
	for _, id := range []string{"d1", "d2"} {
		if v := f.dev(t, id).RosterVersion; v != 3 {
			t.Fatalf("%s confirmed %d, want 3", id, v)
		}
	}
	f.status("d1", wire.Status{Online: true, Nickname: "Front door", RosterVersion: rv(3)})
	f.status("d2", wire.Status{Online: true, Nickname: "Back door", RosterVersion: rv(3)})
	n1, n2 := len(f.sent(t, "d1")), len(f.sent(t, "d2"))

	// d1's storage was damaged: it checks in with version 0.
	f.clk.Advance(time.Minute)
	f.status("d1", wire.Status{Online: true, Nickname: "Front door", RosterVersion: rv(0), Storage: "storage damaged at 2026-11-22 09:01: bad page; 3 records salvaged, 1 unreadable"})
	got := f.sent(t, "d1")
	if len(got) != n1+1 || got[n1].Type != wire.CmdRoster {
		t.Fatalf("after a check-in with roster version 0: %d commands sent, want a roster", len(got)-n1)
	}
	r, err := wire.DecodeRoster(got[n1].Roster)
	if err != nil || !r.Full || r.Version != 3 || len(r.Employees) != 3 {
		t.Fatalf("roster sent: full=%v version=%d employees=%d err=%v; want the full roster 3 with 3 employees", r.Full, r.Version, len(r.Employees), err)
	}
	if d := f.dev(t, "d1"); d.RosterVersion != 0 || d.RosterFailed != 0 {
		t.Fatalf("d1 still believed at %d (failed %d)", d.RosterVersion, d.RosterFailed)
	}
	if !strings.Contains(f.log.String(), "the clock lost the roster it confirmed") {
		t.Fatalf("not logged:\n%s", f.log)
	}
	if strings.Contains(f.log.String(), "1234") || strings.Contains(f.log.String(), "E100") {
		t.Fatal("a roster payload in the log")
	}
	// The same check-in again while the full roster is out: nothing new.
	f.status("d1", wire.Status{Online: true, Nickname: "Front door", RosterVersion: rv(0)})
	if len(f.sent(t, "d1")) != n1+1 {
		t.Fatal("the full roster was queued again while one was out")
	}
	f.result("d1", wire.CommandResult{ID: got[n1].ID, OK: true})
	if v := f.dev(t, "d1").RosterVersion; v != 3 {
		t.Fatalf("d1 confirmed %d after the full roster, want 3", v)
	}
	f.clk.Advance(time.Minute)
	f.status("d1", wire.Status{Online: true, Nickname: "Front door", RosterVersion: rv(3)})
	if len(f.sent(t, "d1")) != n1+1 {
		t.Fatal("a roster sent to a clock that holds the current one")
	}

	// An older clock says nothing of its roster: believed, nothing sent.
	f.clk.Advance(time.Minute)
	f.status("d2", wire.Status{Online: true, Nickname: "Back door"})
	if len(f.sent(t, "d2")) != n2 || f.dev(t, "d2").RosterVersion != 3 {
		t.Fatal("a check-in without roster_version changed what the cloud believes")
	}
	// Another version than confirmed (not 0) is lost too.
	f.status("d2", wire.Status{Online: true, Nickname: "Back door", RosterVersion: rv(2)})
	if got := f.sent(t, "d2"); len(got) != n2+1 || got[n2].Type != wire.CmdRoster {
		t.Fatal("a clock holding version 2, believed at 3, got no roster")
	}

	// A delta from 3 is out to d1 (confirmed 3 again) when it checks in
	// with 0: the delta is dropped and the full roster goes instead.
	f.rosterChange(t, roster.Change{Upsert: []roster.Employee{{ID: "E103", Name: "Katherine", Badges: []string{"10004"}}}})
	got = f.sent(t, "d1")
	if r, _ := wire.DecodeRoster(got[len(got)-1].Roster); r.Full || r.BaseVersion != 3 {
		t.Fatalf("want a delta from 3, got full=%v base=%d", r.Full, r.BaseVersion)
	}
	f.clk.Advance(time.Minute)
	f.status("d1", wire.Status{Online: true, Nickname: "Front door", RosterVersion: rv(0)})
	after := f.sent(t, "d1")
	if len(after) != len(got)+1 {
		t.Fatalf("%d commands sent at the check-in, want only the full roster", len(after)-len(got))
	}
	if r, _ := wire.DecodeRoster(after[len(after)-1].Roster); !r.Full || r.Version != 4 || len(r.Employees) != 4 {
		t.Fatalf("want the full roster 4, got full=%v version=%d employees=%d", r.Full, r.Version, len(r.Employees))
	}
	if cs := f.commands(t, "d1"); len(cs) != 1 || cs[0].Cmd.ID != after[len(after)-1].ID {
		t.Fatalf("outbox %d commands, want the full roster only", len(cs))
	}
}

// A clock reporting the version of a roster command it applied, before its
// result arrives, keeps what the cloud believes.
func TestRosterCheckInAheadOfTheResult(t *testing.T) {
	f := setup(t)
	f.rosterChange(t, roster.Change{Full: true, Upsert: []roster.Employee{{ID: "E100", Name: "Ada", Badges: []string{"10001"}}}})
	f.result("d1", wire.CommandResult{ID: f.sent(t, "d1")[0].ID, OK: true})
	f.status("d1", wire.Status{Online: true, Nickname: "Front door", RosterVersion: rv(1)})
	f.rosterChange(t, roster.Change{Upsert: []roster.Employee{{ID: "E101", Name: "Grace", Badges: []string{"10002"}}}})
	f.status("d1", wire.Status{Online: true, Nickname: "Front door", RosterVersion: rv(2)})
	got := f.sent(t, "d1")
	if len(got) != 2 {
		t.Fatalf("%d commands sent, want the delta only", len(got))
	}
	if r, _ := wire.DecodeRoster(got[1].Roster); r.Full {
		t.Fatal("the delta was replaced by a full roster")
	}
	f.result("d1", wire.CommandResult{ID: got[1].ID, OK: true})
	if v := f.dev(t, "d1").RosterVersion; v != 2 {
		t.Fatalf("confirmed %d, want 2", v)
	}
}
