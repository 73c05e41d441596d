package agent

// This file is the clock's side of fingerprints: a finger the module
// matched becomes a punch event, a supervisor's enrollment runs its flow
// (agent/enrollflow) on the module, and templates of employees who left
// the roster, or whose biometric data an administrator deleted, are
// deleted from the module. Templates never reach this process: the module
// matches and stores them itself; the agent knows slots and scores.

import (
	"cmp"
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"timeclock/agent/enrollflow"
	"timeclock/agent/fingers"
	"timeclock/agent/punchflow"
	"timeclock/agent/roster"
	"timeclock/hal"
)

// scanTimeout is how long an enrollment scan waits for a finger.
const scanTimeout = 20 * time.Second

// enroller is the module's enrolling ability, nil when it has none.
func (a *Agent) enroller() hal.FingerEnroller {
	if en, ok := a.hw.Finger.(hal.FingerEnroller); ok {
		return en
	}
	return nil
}

// fingerRead turns a module's event into the punch flow's: the employee
// whose template matched, or an unknown finger. A slot no enrollment holds
// (a template left on the module by an older state file) or one being
// deleted matches nobody.
func (l *punchLoop) fingerRead(ev hal.FingerEvent) punchflow.FingerRead {
	if !ev.Matched {
		l.a.log.Info("unknown finger")
		return punchflow.FingerRead{}
	}
	emp, ok := l.fk.Employee(ev.Slot)
	if !ok {
		l.a.log.Warn("finger matched a slot no enrollment holds: taken as unknown", "slot", ev.Slot)
		return punchflow.FingerRead{}
	}
	l.a.log.Info("finger matched", "employee", emp, "score", ev.Score)
	return punchflow.FingerRead{Employee: emp, Score: ev.Score}
}

// lookupFinger is Lookup for a matched finger: the employee and their
// last punch.
func (l *punchLoop) lookupFinger(f punchflow.FingerRead) punchflow.Person {
	p := punchflow.Person{ViaFinger: true, Score: f.Score}
	emp, ok := l.ros.Current().ByID(f.Employee)
	if !ok {
		l.a.log.Info("finger of an employee no longer on the roster", "employee", f.Employee)
		return p
	}
	p.Found, p.Employee, p.Name, p.Departments, p.Active = true, emp.ID, emp.Name, emp.Departments, emp.Active
	last, ok, err := l.j.LastOf(p.Employee)
	if err != nil {
		l.a.log.Error("last punch unreadable; inferring IN", "who", p.Employee, "err", err)
	}
	if ok {
		p.Last = &last
	}
	return p
}

// enrollRun is an enrollment in progress.
type enrollRun struct {
	s  enrollflow.Session
	m  hal.FingerEnrollment
	en hal.FingerEnroller
	// The Scan or WaitLift running on the module, if one is: cancel
	// stops it, busy is closed when its goroutine has ended.
	cancel context.CancelFunc
	busy   chan struct{}
}

func (a *Agent) enrollFacts() enrollflow.Facts {
	return enrollflow.Facts{Now: a.clk.Now(), IdleTimeout: a.cfg.IdleTimeout.D(), ScanTimeout: scanTimeout, FeedbackTime: a.cfg.FeedbackTime.D()}
}

// startEnroll takes the module for an enrollment.
func (l *punchLoop) startEnroll() {
	en := l.a.enroller()
	if en == nil {
		return
	}
	l.a.log.Info("enrollment opened")
	l.enroll = &enrollRun{s: enrollflow.Start(l.a.enrollFacts()), m: en.StartEnroll(), en: en}
}

// enrollStep feeds an event to the enrollment flow and performs its
// effects; it reports whether the enrollment is over.
func (l *punchLoop) enrollStep(ctx context.Context, ev enrollflow.Event, why string) bool {
	e := l.enroll
	for ev != nil {
		prev := e.s.State()
		var effs []enrollflow.Effect
		e.s, effs = enrollflow.Next(e.s, ev, l.a.enrollFacts())
		if e.s.State() != prev {
			l.a.log.Debug("enroll", "from", prev.String(), "to", e.s.State().String(), "reason", why)
		}
		ev = nil
		for _, eff := range effs {
			if out := l.performEnroll(ctx, eff); out != nil {
				ev, why = out, "result"
			}
		}
	}
	return e.s.State() == enrollflow.StateDone
}

// endEnroll stops what runs on the module and gives it back.
func (l *punchLoop) endEnroll() {
	e := l.enroll
	if e == nil {
		return
	}
	l.stopScan()
	e.m.Done()
	l.enroll = nil
	l.a.log.Info("enrollment closed")
}

func (l *punchLoop) stopScan() {
	e := l.enroll
	if e.cancel != nil {
		e.cancel()
		<-e.busy
		e.cancel, e.busy = nil, nil
	}
}

// background runs a scan or a lift wait on the module; its answer comes
// back to the loop on enrollEvents.
func (l *punchLoop) background(ctx context.Context, run func(context.Context) enrollflow.Event) {
	e := l.enroll
	l.stopScan()
	sctx, cancel := context.WithCancel(ctx)
	busy := make(chan struct{})
	e.cancel, e.busy = cancel, busy
	go func() {
		defer close(busy)
		ev := run(sctx)
		if ev == nil || sctx.Err() != nil {
			return
		}
		select {
		case l.enrollEvents <- ev:
		case <-sctx.Done():
		}
	}()
}

func scanFault(err error) enrollflow.Event {
	switch {
	case errors.Is(err, context.Canceled):
		return nil
	case errors.Is(err, hal.ErrNotSameFinger):
		return enrollflow.ScanFailed{Fault: enrollflow.FaultNotSame}
	case errors.Is(err, hal.ErrNoFinger):
		return enrollflow.ScanFailed{Fault: enrollflow.FaultImage}
	}
	return enrollflow.ScanFailed{Fault: enrollflow.FaultSensor}
}

func (l *punchLoop) performEnroll(ctx context.Context, eff enrollflow.Effect) enrollflow.Event {
	a, e := l.a, l.enroll
	switch eff := eff.(type) {
	case enrollflow.Lookup:
		return enrollflow.Found{Person: l.enrollLookup(eff.Badge, eff.PIN)}
	case enrollflow.Browse:
		return enrollflow.Browsed{Person: l.browse(eff.From, eff.Step)}
	case enrollflow.Scan:
		n := eff.N
		l.background(ctx, func(ctx context.Context) enrollflow.Event {
			ev, err := e.m.Scan(ctx, n)
			if err != nil {
				if f := scanFault(err); f != nil {
					a.log.Warn("enrollment scan failed", "scan", n, "err", err)
					return f
				}
				return nil
			}
			out := enrollflow.Scanned{N: n}
			if n == 1 && ev.Matched {
				out.Owner, _ = l.fk.Employee(ev.Slot)
			}
			return out
		})
	case enrollflow.WaitLift:
		l.background(ctx, func(ctx context.Context) enrollflow.Event {
			if err := e.m.Lifted(ctx); err != nil {
				return scanFault(err)
			}
			return enrollflow.Lifted{}
		})
	case enrollflow.Cancel:
		l.stopScan()
	case enrollflow.Store:
		return l.storeFinger(ctx, eff)
	case enrollflow.Signal:
		a.signals.Signal(eff.OK)
	case enrollflow.Done:
		// The loop ends the enrollment once the flow rests.
	}
	return nil
}

// enrollLookup finds a supervisor or an employee by badge or PIN.
func (l *punchLoop) enrollLookup(badge, pin string) enrollflow.Person {
	r := l.ros.Current()
	var emp roster.Employee
	var found bool
	if pin != "" {
		emp, found = r.ByPIN(pin)
	} else {
		var m roster.Match
		emp, m = r.MatchBadge(badge)
		found = m.Found()
	}
	if !found {
		return enrollflow.Person{}
	}
	return enrollflow.Person{Found: true, Employee: emp.ID, Name: emp.Name, Active: emp.Active, Supervisor: emp.Supervisor}
}

// browse is the active employee after (step 1) or before (step -1) from
// in name order, wrapping around; from "" starts at either end.
func (l *punchLoop) browse(from string, step int) enrollflow.Person {
	var act []roster.Employee
	for _, e := range l.ros.Current().Employees() {
		if e.Active {
			act = append(act, e)
		}
	}
	if len(act) == 0 {
		return enrollflow.Person{}
	}
	// sort.Slice: a generic sort would compile a copy for roster.Employee.
	sort.Slice(act, func(i, j int) bool {
		a, b := act[i], act[j]
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.ID, b.ID)) < 0
	})
	i := -1
	if step < 0 {
		i = len(act)
	}
	for j, e := range act {
		if e.ID == from {
			i = j
		}
	}
	e := act[((i+step)%len(act)+len(act))%len(act)]
	return enrollflow.Person{Found: true, Employee: e.ID, Name: e.Name, Active: e.Active, Supervisor: e.Supervisor}
}

// storeFinger keeps the template in a free slot of the module, then the
// enrollment and consent in the state file. A template the state file
// could not record is deleted again, so no slot holds an unknown finger.
func (l *punchLoop) storeFinger(ctx context.Context, s enrollflow.Store) enrollflow.Event {
	a, e := l.a, l.enroll
	capacity, err := e.en.FingerSlots(ctx)
	if err != nil {
		a.log.Error("enrollment: the module's size", "err", err)
		return enrollflow.StoreFailed{}
	}
	slot, ok := l.fk.FreeSlot(capacity)
	if !ok {
		a.log.Warn("enrollment: every slot of the module is taken", "slots", capacity)
		return enrollflow.StoreFailed{Full: true}
	}
	if err := e.m.Store(ctx, slot); err != nil {
		a.log.Error("enrollment: storing the template on the module", "slot", slot, "err", err)
		return enrollflow.StoreFailed{}
	}
	en := fingers.Enrollment{Slot: slot, Employee: s.Employee, Supervisor: s.Supervisor, ConsentAt: s.ConsentAt.UTC(), EnrolledAt: a.clk.Now().UTC()}
	if err := l.fk.Add(en); err != nil {
		a.log.Error("enrollment not recorded; deleting the template again", "slot", slot, "err", err)
		if derr := e.en.DeleteFinger(ctx, slot); derr != nil {
			a.log.Error("enrollment: deleting the unrecorded template", "slot", slot, "err", derr)
		}
		return enrollflow.StoreFailed{}
	}
	a.log.Info("finger enrolled", "employee", s.Employee, "supervisor", s.Supervisor, "slot", slot, "consent_at", en.ConsentAt.Format(time.RFC3339))
	a.fingersChanged()
	return enrollflow.Stored{}
}

// fingersChanged wakes the sweep and the sync (a record to send).
func (a *Agent) fingersChanged() {
	for _, ch := range []chan struct{}{a.fingerWake, a.bioReady} {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// syncBiometrics is the enrollments as the sync sees them.
type syncBiometrics struct {
	a  *Agent
	fk *fingers.Keeper
}

func (b *syncBiometrics) Reports(max int) ([]fingers.Report, error) { return b.fk.Reports(max) }
func (b *syncBiometrics) Acked(seqs []uint64) error                 { return b.fk.Acked(seqs) }
func (b *syncBiometrics) Ready() <-chan struct{}                    { return b.a.bioReady }
func (b *syncBiometrics) Poke() {
	select {
	case b.a.bioReady <- struct{}{}:
	default:
	}
}

// Delete marks the employee's templates for deletion; the sweep deletes
// them from the module and records the deletion, which the sync sends.
func (b *syncBiometrics) Delete(employee, cmdID string) (int, error) {
	slots, err := b.fk.MarkDeleting(employee, "deleted by the administrator", cmdID)
	if err != nil {
		return 0, err
	}
	b.a.log.Info("fingerprint templates to delete, at the administrator's request", "employee", employee, "templates", len(slots), "command", cmdID)
	b.a.fingersChanged()
	return len(slots), nil
}

// sweepFingers deletes from the module the templates of employees who left
// the roster or whose biometric data an administrator deleted, and records
// each deletion for the cloud. It runs whenever the roster changes or a
// deletion is asked for, and retries a module that failed.
func (a *Agent) sweepFingers(ctx context.Context, fk *fingers.Keeper, ros *roster.Keeper, en hal.FingerEnroller) {
	retry := a.clk.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	a.deleteOrphans(ctx, fk, en)
	for {
		changed := ros.Changed()
		failed := a.sweepOnce(ctx, fk, ros, en)
		if failed {
			retry.Reset(30 * time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-a.fingerWake:
		case <-retry.C():
		}
	}
}

// deleteOrphans empties the sensor when the state file knows of no
// enrollment but the sensor holds templates: a factory reset, or a damaged
// state file started afresh, left templates nobody's consent is recorded
// for on this clock. They would match nobody; they are not kept either.
func (a *Agent) deleteOrphans(ctx context.Context, fk *fingers.Keeper, en hal.FingerEnroller) {
	n, err := en.FingerCount(ctx)
	if err != nil {
		return
	}
	if m := len(fk.All()); m > 0 {
		if n < m {
			// A module replaced (or emptied elsewhere): those fingers are
			// unknown until enrolled again.
			a.log.Warn("the fingerprint sensor holds fewer templates than this clock has enrollments; the missing ones must enroll again", "templates", n, "enrollments", m)
		}
		return
	}
	if n == 0 {
		return
	}
	if err := en.DeleteAllFingers(ctx); err != nil {
		a.log.Warn("fingerprint templates without an enrollment not deleted", "templates", n, "err", err)
		return
	}
	a.log.Warn("fingerprint templates without an enrollment on this clock deleted (the state file is new: a factory reset or a recovered file); enroll again", "templates", n)
}

// sweepOnce is one pass; it reports whether a deletion failed.
func (a *Agent) sweepOnce(ctx context.Context, fk *fingers.Keeper, ros *roster.Keeper, en hal.FingerEnroller) bool {
	r := ros.Current()
	gone := map[string]bool{}
	for _, e := range fk.All() {
		if _, ok := r.ByID(e.Employee); !ok && !e.Deleting {
			gone[e.Employee] = true
		}
	}
	for emp := range gone {
		if _, err := fk.MarkDeleting(emp, "removed from the roster", ""); err != nil {
			a.log.Error("fingerprint deletion not recorded", "employee", emp, "err", err)
			return true
		}
	}
	failed := false
	for _, e := range fk.Deleting() {
		if err := en.DeleteFinger(ctx, e.Slot); err != nil {
			a.log.Warn("fingerprint template not deleted yet; retrying", "employee", e.Employee, "slot", e.Slot, "err", err)
			failed = true
			continue
		}
		last, err := fk.Deleted(e.Slot, a.clk.Now())
		if err != nil {
			a.log.Error("fingerprint deletion not recorded", "employee", e.Employee, "err", err)
			failed = true
			continue
		}
		a.log.Info("fingerprint template deleted", "employee", e.Employee, "slot", e.Slot, "reason", e.Reason, "all_gone", last)
		if last {
			select {
			case a.bioReady <- struct{}{}:
			default:
			}
		}
	}
	return failed
}
