package roster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"timeclock/cloud/store"
	"timeclock/wire"
)

// Employee is one employee as the admin API takes it.
type Employee struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Badges []string `json:"badges,omitempty"`
	// PIN: absent keeps the stored PIN of an existing employee (none for a
	// new one); "" removes it; 4-8 digits set it. It is hashed at once and
	// never stored or logged.
	PIN         *string  `json:"pin,omitempty"`
	Departments []string `json:"departments,omitempty"`
	// Active defaults to true.
	Active *bool `json:"active,omitempty"`
	// Supervisor may enroll fingers at the clocks.
	Supervisor bool `json:"supervisor,omitempty"`
}

// Change is one roster update. Full replaces the roster with Upsert (who is
// not in it is removed); otherwise Upsert adds or replaces employees and
// Remove drops IDs.
type Change struct {
	Full   bool
	Upsert []Employee
	Remove []string
}

// Result says what an update did.
type Result struct {
	Version   uint64 `json:"version"`
	Employees int    `json:"employees"`
	Changed   int    `json:"changed"` // added or modified
	Removed   int    `json:"removed"`
}

// View is a roster as the admin API shows it: no PIN hashes.
type View struct {
	CompanyID string         `json:"company_id"`
	Version   uint64         `json:"version"`
	UpdatedAt time.Time      `json:"updated_at,omitzero"`
	UpdatedBy string         `json:"updated_by,omitempty"`
	Employees []ViewEmployee `json:"employees"`
}

// ViewEmployee is one employee of a View.
type ViewEmployee struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Badges      []string `json:"badges"`
	HasPIN      bool     `json:"has_pin"`
	Departments []string `json:"departments"`
	Active      bool     `json:"active"`
	Supervisor  bool     `json:"supervisor,omitempty"`
}

// envelope is room for the command around a roster body (wire.Command).
const envelope = 4096

// Update applies ch to the company's roster in one transaction. A change
// that changes nothing keeps the version. A bad change is an *Error and
// changes nothing.
func Update(ctx context.Context, st store.Store, companyID string, ch Change, by string, now time.Time) (Result, error) {
	var res Result
	err := st.Update(ctx, func(tx store.Tx) error {
		hdr, err := tx.Roster(companyID)
		if errors.Is(err, store.ErrNotFound) {
			hdr = store.Roster{CompanyID: companyID, Salt: make([]byte, wire.PINSaltLen)}
			if _, err := rand.Read(hdr.Salt); err != nil {
				return fmt.Errorf("roster salt: %w", err)
			}
		} else if err != nil {
			return err
		}
		cur, err := tx.RosterEmployees(companyID)
		if err != nil {
			return err
		}
		changed, r, err := apply(hdr, cur, ch)
		if err != nil {
			return err
		}
		res = r
		if len(changed) == 0 {
			res.Version = hdr.Version
			return nil
		}
		hdr.Version++
		hdr.UpdatedAt, hdr.UpdatedBy = now, by
		for _, e := range changed {
			e.Version = hdr.Version
			if err := tx.PutRosterEmployee(e); err != nil {
				return err
			}
		}
		if err := tx.PutRoster(hdr); err != nil {
			return err
		}
		res.Version = hdr.Version
		// The whole roster must still fit one command to a clock.
		full, err := Payload(tx, companyID, 0, true)
		if err != nil {
			return err
		}
		if b, _ := json.Marshal(full); len(b) > wire.MaxPayload-envelope {
			return &Error{Msg: fmt.Sprintf("the roster would be %d bytes, more than a clock takes in one command (%d); remove employees", len(b), wire.MaxPayload-envelope)}
		}
		return nil
	})
	return res, err
}

// apply checks ch against the current employees and returns the records to
// write (changed, added, and tombstones for the removed) and the counts.
func apply(hdr store.Roster, cur []store.RosterEmployee, ch Change) ([]store.RosterEmployee, Result, error) {
	live := map[string]store.RosterEmployee{}
	for _, e := range cur {
		if !e.Removed {
			live[e.ID] = e
		}
	}
	next := map[string]store.RosterEmployee{}
	if !ch.Full {
		for id, e := range live {
			next[id] = e
		}
	}
	list := "upsert"
	if ch.Full {
		list = "employees"
	}
	inChange := map[string]int{}
	for i, in := range ch.Upsert {
		field := fmt.Sprintf("%s[%d]", list, i)
		if err := checkEmployee(field, &in); err != nil {
			return nil, Result{}, err
		}
		if j, dup := inChange[in.ID]; dup {
			return nil, Result{}, &Error{Field: field + ".id", Msg: fmt.Sprintf("%q is also %s[%d]", in.ID, list, j)}
		}
		inChange[in.ID] = i
		e := store.RosterEmployee{CompanyID: hdr.CompanyID, ID: in.ID, Name: in.Name, Badges: in.Badges,
			Departments: in.Departments, Active: in.Active == nil || *in.Active, Supervisor: in.Supervisor}
		switch {
		case in.PIN == nil:
			if was, ok := live[in.ID]; ok {
				e.PINHash = was.PINHash
			}
		case *in.PIN != "":
			e.PINHash = HashPIN(hdr.Salt, *in.PIN)
		}
		if len(e.Badges) == 0 && e.PINHash == nil {
			return nil, Result{}, &Error{Field: field + ".badges", Msg: "an employee needs a badge or a PIN"}
		}
		next[in.ID] = e
	}
	for i, id := range ch.Remove {
		if _, ok := inChange[id]; ok {
			return nil, Result{}, &Error{Field: fmt.Sprintf("remove[%d]", i), Msg: fmt.Sprintf("%q is also in upsert", id)}
		}
		delete(next, id)
	}
	if len(next) > wire.MaxEmployees {
		return nil, Result{}, &Error{Msg: fmt.Sprintf("%d employees, at most %d", len(next), wire.MaxEmployees)}
	}
	// Badges and PINs are unique across the roster: the clock finds the
	// employee by them. A card number alone collides with another
	// employee's badge that names it with a facility code (wire.BadgeIndex).
	ids := make([]string, 0, len(next))
	for id := range next {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var badges wire.BadgeIndex
	byPIN := map[string]string{}
	for _, id := range ids {
		e := next[id]
		where := func(sub string) string {
			if i, ok := inChange[id]; ok {
				return fmt.Sprintf("%s[%d].%s", list, i, sub)
			}
			return fmt.Sprintf("employee %s.%s", id, sub)
		}
		for k, b := range e.Badges {
			if err := badges.Add(id, b); err != nil {
				return nil, Result{}, &Error{Field: where(fmt.Sprintf("badges[%d]", k)), Msg: err.Error()}
			}
		}
		if e.PINHash != nil {
			if other, dup := byPIN[string(e.PINHash)]; dup {
				return nil, Result{}, &Error{Field: where("pin"), Msg: "same PIN as " + other + " (PINs must be unique)"}
			}
			byPIN[string(e.PINHash)] = id
		}
	}
	var out []store.RosterEmployee
	res := Result{Employees: len(next)}
	for _, id := range ids {
		e := next[id]
		if was, ok := live[id]; ok && same(was, e) {
			continue
		}
		out = append(out, e)
		res.Changed++
	}
	for id, was := range live {
		if _, ok := next[id]; !ok {
			out = append(out, store.RosterEmployee{CompanyID: hdr.CompanyID, ID: id, Removed: true, Version: was.Version})
			res.Removed++
		}
	}
	return out, res, nil
}

func same(a, b store.RosterEmployee) bool {
	return a.Name == b.Name && slices.Equal(a.Badges, b.Badges) && bytes.Equal(a.PINHash, b.PINHash) &&
		slices.Equal(a.Departments, b.Departments) && a.Active == b.Active && a.Supervisor == b.Supervisor
}

// Payload builds the roster command body for a clock that has version base:
// the full roster when full is set, base is 0 or base is not older than
// the roster; otherwise the delta from base.
func Payload(tx store.Tx, companyID string, base uint64, full bool) (wire.Roster, error) {
	hdr, err := tx.Roster(companyID)
	if err != nil {
		return wire.Roster{}, err
	}
	emps, err := tx.RosterEmployees(companyID)
	if err != nil {
		return wire.Roster{}, err
	}
	full = full || base == 0 || base >= hdr.Version
	r := wire.Roster{Version: hdr.Version, Full: full, Salt: hdr.Salt, Employees: []wire.RosterEmployee{}}
	if !full {
		r.BaseVersion = base
	}
	for _, e := range emps {
		switch {
		case e.Removed:
			if !full && e.Version > base {
				r.Removed = append(r.Removed, e.ID)
			}
		case full || e.Version > base:
			r.Employees = append(r.Employees, wire.RosterEmployee{ID: e.ID, Name: e.Name, Badges: e.Badges,
				PINHash: e.PINHash, Departments: e.Departments, Active: e.Active, Supervisor: e.Supervisor})
		}
	}
	return r, nil
}

// Version is the company roster's version (0: none).
func Version(tx store.Tx, companyID string) (uint64, error) {
	hdr, err := tx.Roster(companyID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	return hdr.Version, err
}

// Get returns the roster as the admin API shows it.
func Get(ctx context.Context, st store.Store, companyID string) (View, error) {
	v := View{CompanyID: companyID, Employees: []ViewEmployee{}}
	err := st.View(ctx, func(tx store.Tx) error {
		hdr, err := tx.Roster(companyID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v.Version, v.UpdatedAt, v.UpdatedBy = hdr.Version, hdr.UpdatedAt, hdr.UpdatedBy
		emps, err := tx.RosterEmployees(companyID)
		for _, e := range emps {
			if !e.Removed {
				v.Employees = append(v.Employees, ViewEmployee{ID: e.ID, Name: e.Name, Badges: nonNil(e.Badges),
					HasPIN: e.PINHash != nil, Departments: nonNil(e.Departments), Active: e.Active, Supervisor: e.Supervisor})
			}
		}
		return err
	})
	return v, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
