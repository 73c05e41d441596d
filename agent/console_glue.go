package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"timeclock/agent/console"
	"timeclock/agent/journal"
	"timeclock/agent/logring"
	"timeclock/agent/store"
	"timeclock/clock"
	"timeclock/hal"
)

// This file is the agent as the serial console sees it (console.Agent).
// Methods whose subsystem is not in this build answer console.Missing;
// each says which branch fills it in.

// System is what the agent asks of the operating system.
type System interface {
	// Reboot restarts the clock. cmd/timeclockd stops the agent cleanly
	// first; on the simulated board the process starts itself again.
	Reboot() error
}

// Console returns the agent as the serial console sees it; sys reboots.
func (a *Agent) Console(sys System) console.Agent { return &consoleAgent{a: a, sys: sys} }

// Tapped returns the hardware with its devices wrapped by t, so the
// console's hardware checks can borrow them from the punch flow.
func (h Hardware) Tapped(t *console.Tap) Hardware {
	h.Keypad = t.Keypad(h.Keypad)
	h.Display = t.Display(h.Display)
	h.Indicator = t.Indicator(h.Indicator)
	badges := make([]hal.BadgeReader, len(h.Badges))
	for i, r := range h.Badges {
		badges[i] = t.BadgeReader(r)
	}
	h.Badges = badges
	return h
}

type consoleAgent struct {
	a   *Agent
	sys System
}

var _ console.Agent = (*consoleAgent)(nil)

func (c *consoleAgent) Status() []console.Field {
	var out []console.Field
	for _, f := range c.a.Status().Fields() {
		out = append(out, console.Field{Key: f.Key, Value: f.Value})
	}
	return out
}

func (c *consoleAgent) SetTime(ctx context.Context, t time.Time) (time.Time, error) {
	return c.a.SetTime(ctx, t)
}

func (c *consoleAgent) SetZone(zone string) error { return c.a.SetZone(zone) }

func (c *consoleAgent) Zone() *time.Location { return c.a.location() }

func (c *consoleAgent) Time() []console.Field {
	now := c.a.clk.Now()
	st := c.a.keeper.State()
	return []console.Field{
		{Key: "local", Value: now.In(c.a.location()).Format("Mon 2006-01-02 15:04:05 MST")},
		{Key: "zone", Value: c.a.location().String()},
		{Key: "utc", Value: now.UTC().Format(time.RFC3339)},
		{Key: "synced", Value: strconv.FormatBool(c.a.ntpSynced())},
		{Key: "set", Value: strconv.FormatBool(st.Source != clock.SourceUnset)},
		{Key: "uptime", Value: now.Sub(c.a.start).Truncate(time.Second).String()},
		{Key: "source", Value: string(st.Source)},
		{Key: "floor", Value: c.a.keeper.Floor().UTC().Format(time.RFC3339)},
	}
}

// Config lists every Config field by its JSON name. Secret-looking keys
// and passwords inside URLs are never shown.
func (c *consoleAgent) Config() []console.Field {
	v := reflect.ValueOf(c.a.cfg)
	var out []console.Field
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		val := fmt.Sprint(v.Field(i).Interface())
		if d, ok := v.Field(i).Interface().(Duration); ok {
			val = d.D().String()
		}
		switch {
		case logring.IsSecretKey(name):
			val = logring.Redacted
		case strings.Contains(val, "://"):
			if u, err := url.Parse(val); err == nil && u.User != nil {
				u.User = url.User(logring.Redacted)
				val = u.String()
			}
		}
		out = append(out, console.Field{Key: name, Value: val})
	}
	return append(out, console.Field{Key: "version", Value: c.a.cfg.Version})
}

// Punches lists pending punches oldest first, or recent ones (pending and
// acked) newest first, one line each.
func (c *consoleAgent) Punches(ctx context.Context, which console.PunchList, n int) ([]string, error) {
	j := c.a.Journal()
	if j == nil {
		return nil, errors.New("the punch journal is not open yet")
	}
	var ps []journal.Punch
	var err error
	if which == console.Pending {
		ps, err = j.PendingAfter(0, n)
	} else {
		ps, err = j.Recent(n)
	}
	if err != nil {
		return nil, fmt.Errorf("punches: %w", err)
	}
	lines := make([]string, 0, len(ps))
	for _, p := range ps {
		lines = append(lines, punchLine(p, c.a.location()))
	}
	return lines, nil
}

// punchLine is one punch as the technician reads it.
func punchLine(p journal.Punch, loc *time.Location) string {
	l := fmt.Sprintf("#%d %s %-5s %s %s", p.Seq, p.Time.In(loc).Format("2006-01-02 15:04:05"), p.Kind, p.Who(), p.State)
	if p.Name != "" {
		l += " (" + p.Name + ")"
	}
	if p.Department != "" {
		l += " dept=" + p.Department
	}
	if !p.ClockSet {
		l += " clock-unset"
	}
	if p.Corrected {
		l += " corrected"
	}
	return l
}

// PendingPunches is the journal's pending count.
func (c *consoleAgent) PendingPunches() (int, error) {
	j := c.a.Journal()
	if j == nil {
		return 0, errors.New("the punch journal is not open yet")
	}
	return j.Pending(), nil
}

// syncWait bounds the console's sync: long enough for a backlog of
// thousands of punches, short enough that a stuck cloud gets a report.
const syncWait = 60 * time.Second

// Sync connects now if the clock is offline, sends what is pending and
// reports what was sent and acknowledged.
func (c *consoleAgent) Sync(ctx context.Context, out io.Writer) error {
	if url, _, _ := c.a.cloud(); url == "" {
		return errors.New("no cloud configured (--cloud): the clock runs standalone and keeps its punches")
	}
	s := c.a.syncer.Load()
	switch {
	case s == nil && c.a.phaseNow() == phaseDisabled:
		return errors.New("the clock is disabled by the administrator and has no credentials; onboard it again (onboard)")
	case s == nil && c.a.Identity() == nil:
		return errors.New("the clock is not onboarded yet: there is no cloud session")
	case s == nil:
		return errors.New("the cloud sync is not running (see log)")
	}
	j := c.a.Journal()
	before := j.Pending()
	sent0, acked0 := s.Counters()
	if s.Online() {
		fmt.Fprintf(out, "online over %s; %d punches pending\n", s.Link(), before)
	} else {
		fmt.Fprintf(out, "offline; connecting now; %d punches pending\n", before)
	}
	wctx, cancel := context.WithTimeout(ctx, syncWait)
	defer cancel()
	err := s.SyncNow(wctx)
	sent1, acked1 := s.Counters()
	if link := s.Link(); link != "" {
		fmt.Fprintf(out, "connected over %s\n", link)
	}
	fmt.Fprintf(out, "sent %d punches, %d acknowledged by the cloud, %d pending\n", sent1-sent0, acked1-acked0, j.Pending())
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sync: not everything was acknowledged within %v; the clock keeps sending in the background", syncWait)
	}
	return fmt.Errorf("sync: %w", err)
}

// NetCheck runs the onboarding network check and writes one line per step.
func (c *consoleAgent) NetCheck(ctx context.Context, out io.Writer) error {
	return c.a.NetCheck(ctx, out)
}

func (c *consoleAgent) Reboot(ctx context.Context) error {
	if err := c.sys.Reboot(); err != nil {
		return fmt.Errorf("reboot: %w", err)
	}
	return nil
}

// FactoryReset leaves a marker in the state directory and reboots; the
// next start erases the state before anything opens it (FinishFactoryReset).
func (c *consoleAgent) FactoryReset(ctx context.Context) error {
	if err := requestFactoryReset(c.a.cfg.StateDir, c.a.clk.Now()); err != nil {
		return err
	}
	c.a.log.Warn("factory reset requested; erasing the state at restart")
	if err := c.sys.Reboot(); err != nil {
		return fmt.Errorf("factory reset: the state is erased at the next start; reboot failed: %w", err)
	}
	return nil
}

// Onboard forgets the identity (and a disable by the administrator) and
// restarts the clock, which then starts at the onboarding screens. Pending punches stay in the journal and are
// sent once the clock is onboarded again.
func (c *consoleAgent) Onboard(ctx context.Context) error {
	if c.a.cfg.CloudURL == "" {
		return errors.New("no cloud configured (--cloud): there is nothing to onboard to")
	}
	if err := c.a.OnboardAgain(); err != nil {
		return fmt.Errorf("onboard: %w", err)
	}
	if err := c.sys.Reboot(); err != nil {
		return fmt.Errorf("onboard: the identity is erased; restart the clock to onboard (reboot failed: %w)", err)
	}
	return nil
}

// Storage describes the state file: its path, the recovery notice, the
// damaged files set aside beside it, and how full the punch journal is.
func (c *consoleAgent) Storage() ([]console.Field, error) {
	st, j := c.a.stateFile.Load(), c.a.Journal()
	if st == nil || j == nil {
		return nil, errors.New("the state file is not open yet")
	}
	n, recovered := st.Notice()
	at, reason := "", ""
	if recovered {
		at, reason = n.At.Format(time.RFC3339), n.Reason
	}
	damaged, err := store.Damaged(filepath.Dir(st.Path()))
	if err != nil {
		return nil, err
	}
	aside := "none"
	if len(damaged) > 0 {
		names := make([]string, len(damaged))
		for i, d := range damaged {
			names[i] = fmt.Sprintf("%s (%d bytes)", d.Name, d.Size)
		}
		aside = strings.Join(names, ", ")
	}
	return []console.Field{
		{Key: "path", Value: st.Path()},
		{Key: "recovered", Value: strconv.FormatBool(recovered)},
		{Key: "recovered_at", Value: at},
		{Key: "recovered_reason", Value: reason},
		{Key: "damaged", Value: aside},
		{Key: "pending", Value: strconv.Itoa(j.Pending())},
		{Key: "capacity", Value: strconv.Itoa(j.Capacity())},
		{Key: "fill", Value: fmt.Sprintf("%d%%", int(j.Fill()*100))},
	}, nil
}

// StorageNotice says which damaged file the idle screen's "Storage
// recovered, call service" is about.
func (c *consoleAgent) StorageNotice() (string, bool) {
	st := c.a.stateFile.Load()
	if st == nil {
		return "", false
	}
	n, ok := st.Notice()
	if !ok {
		return "", false
	}
	at := n.At.Format(time.RFC3339)
	switch {
	case n.Lost && n.Aside != "":
		return fmt.Sprintf("At %s the state file was lost (%s; what was in its place is kept as %s) and a fresh one started.", at, n.Reason, n.Aside), true
	case n.Lost:
		return fmt.Sprintf("At %s the state file was lost (%s) and a fresh one started.", at, n.Reason), true
	}
	return fmt.Sprintf("At %s a damaged state file was set aside as %s and a fresh one started with the %d records that could be read (%d unreadable); it was damaged: %s.",
		at, n.Aside, n.Salvaged, n.Unreadable, n.Reason), true
}

// ClearStorageNotice is the agent's: the notice leaves the screen at once.
func (c *consoleAgent) ClearStorageNotice() (bool, error) { return c.a.ClearStorageNotice() }

// PasscodeHash is the technician passcode hash set at activation; "" when
// the clock is not onboarded (the config file's hash applies then).
func (c *consoleAgent) PasscodeHash() (string, error) {
	return c.a.PasscodeHash()
}

// UpdateStatus is the console's "update status".
func (c *consoleAgent) UpdateStatus() ([]console.Field, error) {
	in, err := c.a.UpdateStatus()
	if err != nil {
		return nil, err
	}
	s := in.State
	f := func(k, v string) console.Field { return console.Field{Key: k, Value: v} }
	out := []console.Field{f("running", c.a.cfg.Version)}
	if in.Err != "" {
		out = append(out, f("slots", "none: "+in.Err+" (this clock updates with its package only)"))
	} else {
		out = append(out, f("active_slot", in.Active))
		for _, sl := range []string{"a", "b"} {
			v := in.Slots[sl]
			if v == "" {
				v = "unknown"
			}
			out = append(out, f("slot_"+sl, v))
		}
	}
	if s.Release == "" {
		return append(out, f("last_update", "none")), nil
	}
	out = append(out, f("release", s.Release), f("version", s.Version), f("phase", s.Phase))
	if s.From != "" {
		out = append(out, f("from", s.From))
	}
	if s.Reason != "" {
		out = append(out, f("reason", s.Reason))
	}
	if s.Phase == "trial" {
		out = append(out, f("trial_starts", fmt.Sprint(s.TrialStarts)), f("deadline", s.Deadline.UTC().Format(time.RFC3339)))
	}
	if !s.Switched.IsZero() {
		out = append(out, f("switched", s.Switched.UTC().Format(time.RFC3339)))
	}
	if !s.Committed.IsZero() {
		out = append(out, f("committed", s.Committed.UTC().Format(time.RFC3339)))
	}
	if s.Floor != "" {
		out = append(out, f("floor", s.Floor))
	}
	return append(out, f("reported", fmt.Sprint(s.Reported || s.Phase == "committed"))), nil
}
