package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/agent/journal"
	"timeclock/agent/store"
	"timeclock/clock"
	"timeclock/hal"
	"timeclock/hal/sim"
	"timeclock/internal/await"
	"timeclock/internal/syncbuf"
)

func rosterConfig(t *testing.T) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Timezone = "America/New_York"
	abs, err := filepath.Abs("testdata/roster.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg.RosterFile = abs
	return cfg
}

func (r *rig) badge(n string) {
	r.t.Helper()
	if err := r.board.Swipe(n); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) keys(ks ...hal.Key) {
	r.t.Helper()
	for _, k := range ks {
		if err := r.board.Press(k); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *rig) pin(digits string) {
	r.t.Helper()
	for _, c := range digits {
		r.keys(hal.Key(c - '0'))
	}
}

func (r *rig) journal() *journal.Journal {
	r.t.Helper()
	return await.Value(r.t, 5*time.Second, func() (*journal.Journal, bool) { j := r.agent.Journal(); return j, j != nil }, "agent never opened its state")
}

func (r *rig) punches() []journal.Punch {
	r.t.Helper()
	ps, err := r.journal().PendingAfter(0, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	return ps
}

// screenIs waits for the screen to be exactly lines (trailing blanks trimmed).
func (r *rig) screenIs(lines ...string) {
	r.t.Helper()
	for len(lines) < len(r.board.Screen()) {
		lines = append(lines, "")
	}
	want := strings.Join(lines, "\n")
	var got string
	deadline := time.Now().Add(5 * time.Second)
	ch, stop := r.board.Watch() // before reading, so no change is missed
	defer stop()
	for {
		got = strings.Join(r.board.Screen(), "\n")
		if got == want || time.Now().After(deadline) {
			break
		}
		select {
		case <-ch:
		case <-time.After(time.Until(deadline)):
		}
	}
	if got != want {
		r.t.Fatalf("screen is\n%s\nwant\n%s", got, want)
	}
}

// lightsAre waits for the LEDs and the last beep (the buzzer sounds off
// the punch loop).
func (r *rig) lightsAre(green, red bool, buzzer string) {
	r.t.Helper()
	await.True(r.t, 5*time.Second, func() bool {
		l := r.board.Lights()
		return l.Green == green && l.Red == red && l.Buzzer == buzzer
	}, "lights %+v, want green=%v red=%v buzzer=%q", r.board.Lights(), green, red, buzzer)
}

// idle waits for the idle screen.
func (r *rig) idle() { r.t.Helper(); r.waitScreen("Badge or PIN") }

func TestBadgePunchInThenOut(t *testing.T) {
	r := newRig(t, rosterConfig(t), 20, 4)
	r.idle()
	r.badge("10002")
	r.screenIs("IN             03:59", "Grace Hopper", "Assembly")
	r.lightsAre(true, false, "ok")
	ps := r.punches()
	if len(ps) != 1 || ps[0].Employee != "E101" || ps[0].Kind != journal.KindIn || ps[0].Department != "Assembly" ||
		!ps[0].ClockSet || ps[0].TZ != "America/New_York" || ps[0].TZOffset != -5*3600 || !ps[0].Time.Equal(rigStart) {
		t.Fatalf("journal after the punch: %+v", ps)
	}
	st := r.agent.Status().Map()
	if st["pending"] != 1 || st["last_used_by"] != "Grace Hopper" {
		t.Errorf("status pending=%v last_used_by=%v", st["pending"], st["last_used_by"])
	}
	// Feedback lasts 2 s, then the idle screen (with the pending count).
	r.clk.Advance(2 * time.Second)
	r.screenIs("Mon 23 Nov     03:59", "     1 pending", "    Badge or PIN", "Not connected")
	r.lightsAre(false, false, "ok")
	// Again within the duplicate window: refused, nothing recorded.
	r.badge("10002")
	r.screenIs("Already punched", "03:59", "Grace Hopper")
	r.lightsAre(false, true, "error")
	if n := len(r.punches()); n != 1 {
		t.Fatalf("duplicate recorded: %d punches", n)
	}
	// After the window: OUT, inferred from the last punch.
	r.clk.Advance(time.Minute)
	r.badge("10002")
	r.waitScreen("OUT")
	r.screenIs("OUT            04:00", "Grace Hopper", "Assembly")
	if ps := r.punches(); len(ps) != 2 || ps[1].Kind != journal.KindOut || ps[1].Seq <= ps[0].Seq {
		t.Fatalf("second punch: %+v", ps)
	}
}

func TestPINPunchMaskedAndNeverLogged(t *testing.T) {
	r := newRig(t, rosterConfig(t), 20, 4)
	r.idle()
	r.pin("23")
	r.screenIs("Enter PIN", "PIN: **", "", "Enter=OK Clear=back")
	r.pin("45")
	r.waitScreen("PIN: ****")
	r.keys(hal.KeyEnter)
	r.screenIs("IN             03:59", "Grace Hopper", "Assembly")
	// A wrong PIN.
	r.pin("9999")
	r.keys(hal.KeyEnter)
	r.screenIs("Unknown PIN", "Try again")
	r.lightsAre(false, true, "error")
	if n := len(r.punches()); n != 1 {
		t.Fatalf("%d punches, want 1", n)
	}
	logs := r.log.String()
	for _, secret := range []string{"2345", "9999"} {
		for _, line := range strings.Split(logs, "\n") {
			// The punch ID is random hex; the PIN must appear nowhere else.
			line = strings.Join(strings.FieldsFunc(line, func(c rune) bool { return c == ' ' }), " ")
			if strings.Contains(line, secret) && !strings.Contains(line, "id=") && !strings.Contains(line, "time=") {
				t.Errorf("PIN %s in the log: %s", secret, line)
			}
		}
	}
	if !strings.Contains(logs, "unknown PIN") {
		t.Error("unknown PIN not logged")
	}
}

func TestClearAndIdleTimeout(t *testing.T) {
	r := newRig(t, rosterConfig(t), 16, 2)
	r.idle()
	r.pin("12")
	r.screenIs("Enter PIN", "PIN: **")
	r.keys(hal.KeyClear)
	r.screenIs("Mon 23 Nov 03:59", "  Badge or PIN")
	r.keys(hal.KeyF4)
	r.screenIs("Punch LUNCH", "Badge or PIN")
	r.clk.Advance(9 * time.Second)
	r.pin("1")
	r.screenIs("Punch LUNCH", "PIN: *")
	// Every key restarts the 10 s: 9 s more is not enough...
	r.clk.Advance(9 * time.Second)
	if s := r.board.Screen(); s[0] != "Punch LUNCH" {
		t.Fatalf("entry ended early: %q", s)
	}
	// ...10 s of nothing is.
	r.clk.Advance(time.Second)
	r.idle()
	if n := len(r.punches()); n != 0 {
		t.Fatalf("%d punches after backing out", n)
	}
}

func TestKindKeysOverride(t *testing.T) {
	r := newRig(t, rosterConfig(t), 20, 4)
	r.idle()
	for _, tc := range []struct {
		key  hal.Key
		kind string
	}{{hal.KeyF3, "BREAK"}, {hal.KeyF4, "LUNCH"}, {hal.KeyF1, "IN"}, {hal.KeyF2, "OUT"}} {
		r.keys(tc.key)
		r.waitScreen("Punch " + tc.kind)
		r.badge("10003")
		r.waitScreen("Alan Turing")
		if s := r.board.Screen(); !strings.HasPrefix(s[0], tc.kind+" ") {
			t.Errorf("after %v: %q", tc.key, s)
		}
		r.clk.Advance(2 * time.Minute)
		r.idle()
	}
	var kinds []string
	for _, p := range r.punches() {
		kinds = append(kinds, p.Kind.String())
	}
	if strings.Join(kinds, ",") != "BREAK,LUNCH,IN,OUT" {
		t.Fatalf("kinds recorded: %v", kinds)
	}
}

func TestDepartmentChoice(t *testing.T) {
	r := newRig(t, rosterConfig(t), 20, 4)
	r.idle()
	r.badge("10001")
	r.screenIs("Ada Lovelace", "Department 1/3", "> Assembly", "Up/Down Enter=OK")
	r.keys(hal.KeyDown)
	r.waitScreen("> Shipping")
	r.keys(hal.KeyDown, hal.KeyDown, hal.KeyUp)
	r.screenIs("Ada Lovelace", "Department 3/3", "> Office", "Up/Down Enter=OK")
	r.keys(hal.KeyEnter)
	r.screenIs("IN             03:59", "Ada Lovelace", "Office")
	// Next time the last department comes first; a PIN works the same way.
	r.clk.Advance(5 * time.Minute)
	r.idle()
	r.pin("1234")
	r.keys(hal.KeyEnter)
	r.screenIs("Ada Lovelace", "Department 3/3", "> Office", "Up/Down Enter=OK")
	// Choosing too long returns to idle with nothing recorded.
	r.clk.Advance(10 * time.Second)
	r.idle()
	ps := r.punches()
	if len(ps) != 1 || ps[0].Department != "Office" {
		t.Fatalf("punches: %+v", ps)
	}
}

func TestUnknownBadgeRecordedUnassigned(t *testing.T) {
	r := newRig(t, rosterConfig(t), 20, 4)
	r.idle()
	r.badge("0099")
	r.screenIs("Unknown badge", "99")
	r.lightsAre(false, true, "error")
	ps := r.punches()
	if len(ps) != 1 || ps[0].Employee != "" || ps[0].Badge != "99" || ps[0].Kind != journal.KindIn {
		t.Fatalf("unassigned punch: %+v", ps)
	}
	if st := r.agent.Status(); st.LastUsedBy != "" {
		t.Errorf("an unknown badge became last_used_by %q", st.LastUsedBy)
	}
}

func TestUnknownBadgeNotRecordedWhenOff(t *testing.T) {
	cfg := rosterConfig(t)
	cfg.RecordUnknownBadges = false
	r := newRig(t, cfg, 20, 4)
	r.idle()
	r.badge("99")
	r.screenIs("Unknown badge", "99")
	if n := len(r.punches()); n != 0 {
		t.Fatalf("%d punches", n)
	}
}

func TestInactiveEmployee(t *testing.T) {
	r := newRig(t, rosterConfig(t), 16, 2)
	r.idle()
	r.badge("10005")
	r.screenIs("Not active,", "see manager")
	r.pin("5678")
	r.keys(hal.KeyEnter)
	r.waitScreen("see manager")
	if n := len(r.punches()); n != 0 {
		t.Fatalf("inactive employee recorded %d punches", n)
	}
}

// prefill puts n pending punches in a state dir before the agent starts.
func prefill(t *testing.T, dir string, n int) {
	t.Helper()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(st, journal.Options{Capacity: n})
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]journal.Punch, n)
	for i := range ps {
		ps[i] = journal.Punch{Badge: "1", Kind: journal.KindIn, Time: rigStart, TZ: "UTC", ClockSet: true}
	}
	if _, err := j.AppendBatch(ps); err != nil {
		t.Fatal(err)
	}
	j.Close()
	st.Close()
}

func TestStorageWarningAndFull(t *testing.T) {
	cfg := rosterConfig(t)
	cfg.Capacity = 100
	cfg.StateDir = t.TempDir()
	prefill(t, cfg.StateDir, 85)
	r := startRig(t, cfg, 20, 4, clock.NewFake(rigStart))
	r.screenIs("Mon 23 Nov     03:59", "Storage 85% full", "    Badge or PIN", "Not connected     85")
	if !strings.Contains(r.log.String(), "storage 85% full") {
		t.Errorf("warning not logged:\n%s", r.log.String())
	}
	r.stop()

	cfg.StateDir = t.TempDir()
	prefill(t, cfg.StateDir, 100)
	r = startRig(t, cfg, 20, 4, clock.NewFake(rigStart))
	r.screenIs("Mon 23 Nov     03:59", "Storage FULL,", "call service", "Not connected    100")
	r.badge("10002")
	r.screenIs("Storage FULL", "Punch NOT saved", "Call service")
	r.lightsAre(false, true, "error")
	if n := r.journal().Pending(); n != 100 {
		t.Fatalf("pending %d after a refused punch", n)
	}
	if ps := r.punches(); ps[0].Seq != 1 {
		t.Fatal("an old punch was dropped")
	}
	if !strings.Contains(r.log.String(), "STORAGE FULL") {
		t.Error("refusal not logged")
	}
}

func TestStorageRecoveredNotice(t *testing.T) {
	cfg := rosterConfig(t)
	cfg.StateDir = t.TempDir()
	os.WriteFile(filepath.Join(cfg.StateDir, store.FileName), []byte(strings.Repeat("garbage!", 2000)), 0o600)
	r := startRig(t, cfg, 20, 4, clock.NewFake(rigStart))
	r.screenIs("Mon 23 Nov     03:59", "Storage recovered,", "call service", "Not connected")
	if !strings.Contains(r.log.String(), "storage damaged") {
		t.Errorf("recovery not logged")
	}
	// The clock works on the fresh file.
	r.badge("10002")
	r.waitScreen("Grace Hopper")
	if ps := r.punches(); len(ps) != 1 || ps[0].Seq <= uint64(rigStart.UnixMilli()) {
		t.Fatalf("punch on the fresh file: %+v", ps)
	}
	r.clk.Advance(2 * time.Second) // back to idle
	r.screenIs("Mon 23 Nov     03:59", "Storage recovered,", "call service", "Not connected      1")

	// Service reads the console's storage report, then clears the notice:
	// it leaves the screen at once, for good.
	tc := attachConsole(t, r)
	got := tc.run("storage")
	const aside = "\ndamaged=state.db.damaged-20261123T085930Z (16000 bytes)\n"
	for _, want := range []string{"\npath=" + filepath.Join(cfg.StateDir, store.FileName) + "\n", "\nrecovered=true\n",
		"\nrecovered_at=2026-11-23T08:59:30Z\n", "\npending=1\n", "\ncapacity=", "\nfill=0%\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("storage lacks %q:\n%s", want, got)
		}
	}
	if !strings.Contains(got, aside) {
		t.Errorf("storage does not list the damaged file:\n%s", got)
	}
	tc.typ("storage ack\r")
	tc.expect("set aside as state.db.damaged-20261123T085930Z and a fresh one started with the 0 records that could be read (0 unreadable); it was damaged: no valid meta page")
	tc.expect("[y/N] ")
	if got := tc.run("y"); !strings.Contains(got, "Storage notice cleared") {
		t.Fatalf("storage ack y:\n%s", got)
	}
	r.screenIs("Mon 23 Nov     03:59", "     1 pending", "    Badge or PIN", "Not connected")
	got = tc.run("storage")
	if !strings.Contains(got, "\nrecovered=false\nrecovered_at=\nrecovered_reason=\n") || !strings.Contains(got, aside) {
		t.Errorf("storage after ack (the damaged file stays):\n%s", got)
	}
	if got := tc.run("storage ack"); !strings.Contains(got, "Nothing to clear") {
		t.Errorf("storage ack again:\n%s", got)
	}
	r.stop()
	st, err := store.Open(cfg.StateDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.Notice(); ok {
		t.Error("the notice is back after a restart")
	}
}

func TestTwoLineNoticeAlternates(t *testing.T) {
	cfg := rosterConfig(t)
	cfg.StateDir = t.TempDir()
	os.WriteFile(filepath.Join(cfg.StateDir, store.FileName), make([]byte, 8192), 0o600)
	clk := clock.NewFake(rigStart.Add(-2 * time.Second)) // 08:59:28, a 4 s slot showing the clock
	r := startRig(t, cfg, 16, 2, clk)
	r.screenIs("Mon 23 Nov 03:59", "  Badge or PIN")
	r.clk.Advance(4 * time.Second)
	r.screenIs("Data recovered,", "call service")
	r.clk.Advance(4 * time.Second)
	r.idle()
}

func TestUnsetClockPunchCorrected(t *testing.T) {
	cfg := rosterConfig(t)
	cfg.StateDir = t.TempDir()
	unset := time.Date(1970, 1, 1, 0, 2, 0, 0, time.UTC)
	clk := clock.NewFake(unset)
	r := startRig(t, cfg, 20, 4, clk)
	r.idle()
	r.badge("10003")
	r.waitScreen("Alan Turing")
	p := r.punches()[0]
	if p.ClockSet || p.BootID != "boot-1" || p.SinceBoot != time.Hour {
		t.Fatalf("unset-clock punch: %+v", p)
	}
	// 30 s later NTP sets the clock to real time; at the next tick the
	// punch moves to 30 s before it.
	clk.Advance(30 * time.Second) // back to idle
	r.idle()
	real := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	sinceBootThen := time.Hour + 30*time.Second
	// The rig's CLOCK_BOOTTIME follows the fake clock; keep it continuous.
	rigBootShift(t, r, real, sinceBootThen)
	clk.Set(real)
	await.True(t, 5*time.Second, func() bool { return r.punches()[0].Corrected }, "punch never corrected")
	got := r.punches()[0]
	if want := real.Add(-30 * time.Second); !got.Time.Equal(want) || got.TZOffset != -5*3600 {
		t.Fatalf("corrected time %v (offset %d), want %v", got.Time, got.TZOffset, want)
	}
}

// rigBootShift makes the agent's CLOCK_BOOTTIME continue from sinceBoot at
// the fake wall time realNow, as a kernel's would when the wall clock is set.
func rigBootShift(t *testing.T, r *rig, realNow time.Time, sinceBoot time.Duration) {
	t.Helper()
	boot := realNow.Add(-sinceBoot)
	r.boot.Store(&boot)
}

func TestBadRosterFileKeepsStoredRoster(t *testing.T) {
	cfg := rosterConfig(t)
	cfg.StateDir = t.TempDir()
	r := startRig(t, cfg, 20, 4, clock.NewFake(rigStart))
	r.idle()
	r.stop()
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{\"version\": 2, \"employees\": [\n  {\"id\": \"E1\", \"name\": \"X\",\n   \"badges\": [\"1x\"]}]}"), 0o600)
	cfg.RosterFile = bad
	r = startRig(t, cfg, 20, 4, clock.NewFake(rigStart))
	r.idle()
	if !strings.Contains(r.log.String(), "line 3: employees[0].badges[0]: must be digits only") {
		t.Errorf("rejection not logged with line and field:\n%s", r.log.String())
	}
	r.badge("10002")
	r.waitScreen("Grace Hopper")
}

// badFrames is a badge reader that first returns garbled frames, then one
// good read, then blocks.
type badFrames struct {
	bad  int
	good hal.BadgeEvent
	done bool
}

func (f *badFrames) String() string { return "bad-frames" }
func (f *badFrames) Halt() error    { return nil }
func (f *badFrames) ReadBadge(ctx context.Context) (hal.BadgeEvent, error) {
	if f.bad > 0 {
		f.bad--
		return hal.BadgeEvent{}, fmt.Errorf("wiegand: parity: %w", hal.ErrBadFrame)
	}
	if !f.done {
		f.done = true
		return f.good, nil
	}
	<-ctx.Done()
	return hal.BadgeEvent{}, ctx.Err()
}

// A run of garbled frames never delays the next good swipe: the reader is
// read on at once, without the back-off a failing device gets (the fake
// clock never moves here, so any back-off would hang the test).
func TestBadFramesDoNotDelayTheNextSwipe(t *testing.T) {
	clk := clock.NewFake(rigStart)
	b, _ := sim.New(&sim.Opts{Cols: 20, Rows: 4, Now: clk.Now})
	defer b.Halt()
	cfg := rosterConfig(t)
	cfg.StateDir = t.TempDir()
	logs := &syncbuf.Buffer{}
	reader := &badFrames{bad: 5, good: hal.BadgeEvent{Format: hal.FormatWiegand26, Number: "10002", Time: clk.Now()}}
	a, err := New(cfg, Hardware{Model: "sim", Keypad: b.Keypad(), Display: b.Display(), Badges: []hal.BadgeReader{reader}, Indicator: b.Indicator()},
		Options{Clock: clk, NTPSynced: func() bool { return true }, NetworkIface: func() string { return "eth0" },
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	await.True(t, 5*time.Second, func() bool { return strings.Contains(strings.Join(b.Screen(), "\n"), "Grace Hopper") },
		"the good swipe after bad frames was not punched; log:\n%s", logs)
	if n := strings.Count(logs.String(), "badge frame rejected"); n != 5 {
		t.Errorf("%d bad frames logged, want 5", n)
	}
}

// openLoop opens a fresh state directory as Run does and returns the punch
// loop on it, not running, for its lookups and records.
func openLoop(t *testing.T, now time.Time) (*punchLoop, *syncbuf.Buffer) {
	t.Helper()
	clk := clock.NewFake(now)
	b, err := sim.New(&sim.Opts{Cols: 20, Rows: 4, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Halt() })
	cfg := rosterConfig(t)
	cfg.StateDir = t.TempDir()
	logs := &syncbuf.Buffer{}
	a, err := New(cfg, Hardware{Model: "sim", Keypad: b.Keypad(), Display: b.Display(), Indicator: b.Indicator()},
		Options{Clock: clk, Logger: slog.New(slog.NewTextHandler(logs, nil)),
			BootID: func() string { return "boot-1" }, SinceBoot: func() time.Duration { return time.Hour }})
	if err != nil {
		t.Fatal(err)
	}
	st, j, ros, err := a.openState()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close(); st.Close() })
	return &punchLoop{a: a, st: st, j: j, ros: ros}, logs
}

func TestLookupAndRecord(t *testing.T) {
	l, logs := openLoop(t, rigStart)
	ada := l.lookup("", "1234")
	if !ada.Found || !ada.ViaPIN || ada.Employee != "E100" || ada.Name != "Ada Lovelace" || len(ada.Departments) != 3 || !ada.Active || ada.Last != nil {
		t.Fatalf("PIN 1234: %+v", ada)
	}
	if p := l.lookup("", "9999"); p.Found || !p.ViaPIN {
		t.Fatalf("unknown PIN: %+v", p)
	}
	if strings.Contains(logs.String(), "9999") || strings.Contains(logs.String(), "1234") {
		t.Fatalf("a PIN reached the log:\n%s", logs)
	}
	if p := l.lookup("0010002", ""); !p.Found || p.Employee != "E101" {
		t.Fatalf("badge 0010002 (stored as 10002): %+v", p)
	}
	// Unknown badges are known by their number as the roster matches it.
	if p := l.lookup("0099", ""); p.Found || p.Badge != "99" {
		t.Fatalf("unknown badge: %+v", p)
	}
	out, err := l.record(journal.Punch{Employee: "E100", Name: "Ada Lovelace", Kind: journal.KindIn, Department: "Shipping"})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Time.Equal(rigStart) || out.TZ != "America/New_York" || out.TZOffset != -5*3600 || !out.ClockSet || out.Seq == 0 {
		t.Fatalf("recorded %+v", out)
	}
	select {
	case <-l.a.punched:
	default:
		t.Error("the sync was not told of the punch")
	}
	ada = l.lookup("10001", "")
	if ada.Last == nil || ada.Last.Kind != journal.KindIn || ada.Last.Department != "Shipping" {
		t.Fatalf("last punch after recording: %+v", ada.Last)
	}
	if _, err := l.record(journal.Punch{Badge: "99", Kind: journal.KindIn}); err != nil {
		t.Fatal(err)
	}
	if p := l.lookup("0099", ""); p.Last == nil {
		t.Fatal("an unknown badge's punch is not its last punch")
	}
}

// TestFacilityCodes swipes cards with facility codes through the sim board:
// a badge with a facility code punches only with it; a card number alone
// on the roster matches that card at any site.
func TestFacilityCodes(t *testing.T) {
	cfg := rosterConfig(t)
	abs, err := filepath.Abs("testdata/roster-facility.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg.RosterFile = abs
	r := newRig(t, cfg, 20, 4)
	r.idle()
	next := func() { r.t.Helper(); r.clk.Advance(2 * time.Minute); r.idle() }

	r.badge("12:34567")
	r.screenIs("IN             03:59", "Site Twelve")
	r.lightsAre(true, false, "ok")
	next()
	r.badge("13:34567") // another site's card with the same number
	r.screenIs("Unknown badge", "13:34567")
	r.lightsAre(false, true, "error")
	next()
	r.badge("34567") // no facility code at all
	r.screenIs("Unknown badge", "34567")
	next()
	r.badge("7:20001") // the card number alone on the roster: any site
	r.screenIs("IN             04:05", "Any Site")
	next()
	r.badge("20001")
	r.screenIs("OUT            04:07", "Any Site")

	var got []string
	for _, p := range r.punches() {
		got = append(got, p.Who()+" "+p.Kind.String())
	}
	if want := "E200 IN,badge 13:34567 IN,badge 34567 IN,E201 IN,E201 OUT"; strings.Join(got, ",") != want {
		t.Fatalf("punches %q, want %q", got, want)
	}
	logs := r.log.String()
	for _, want := range []string{"roster_badge=13:34567", "unknown badge", "badge matched by its card number alone"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestBadgeKey(t *testing.T) {
	for _, tc := range []struct {
		ev   hal.BadgeEvent
		want string
	}{
		{hal.BadgeEvent{Format: hal.FormatWiegand26, Facility: 12, Number: "34567"}, "12:34567"},
		{hal.BadgeEvent{Format: hal.FormatWiegand34, Facility: 0, Number: "5"}, "0:5"},
		{hal.BadgeEvent{Format: hal.FormatEM4100, Raw: []byte{0x62, 0xE3, 0x08, 0x6C, 0xED}, Number: "3808980205"}, "em:62E3086CED"},
		{hal.BadgeEvent{Format: hal.FormatMifare, Raw: []byte{0x04, 0xA2, 0xB3, 0xC4}, Number: "77771716"}, "77771716"},
		{hal.BadgeEvent{Format: hal.FormatKeyboard, Number: "10001"}, "10001"},
		{hal.BadgeEvent{Format: hal.FormatSim, Facility: 12, Number: "34567"}, "12:34567"},
	} {
		if got := badgeKey(tc.ev); got != tc.want {
			t.Errorf("badgeKey(%v) = %q, want %q", tc.ev, got, tc.want)
		}
	}
}
