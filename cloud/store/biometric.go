package store

import (
	"sort"
	"time"

	"timeclock/wire"
)

// BiometricEmployee is one employee's fingerprint enrollments across the
// company's clocks, as the clocks reported them: on which clocks, the
// consent, and when the templates were deleted.
type BiometricEmployee struct {
	Employee string           `json:"employee"`
	Name     string           `json:"name,omitempty"` // from the company roster; empty when no longer on it
	Clocks   []BiometricClock `json:"clocks"`
}

// BiometricClock is an employee's enrollment on one clock.
type BiometricClock struct {
	DeviceID string `json:"device_id"`
	Nickname string `json:"nickname,omitempty"`
	// Enrolled: the clock's last record is a consent (the templates are on
	// its module).
	Enrolled   bool      `json:"enrolled"`
	ConsentAt  time.Time `json:"consent_at,omitzero"`
	Supervisor string    `json:"supervisor,omitempty"`
	DeletedAt  time.Time `json:"deleted_at,omitzero"`
	Reason     string    `json:"deletion_reason,omitempty"`
}

// BiometricSummary folds a company's consent and deletion records into one
// row per employee, one entry per clock, in employee and device order.
func BiometricSummary(tx Tx, companyID string) ([]BiometricEmployee, error) {
	recs, err := tx.Biometrics(companyID)
	if err != nil {
		return nil, err
	}
	devs, err := tx.Devices(companyID)
	if err != nil {
		return nil, err
	}
	nick := map[string]string{}
	for _, d := range devs {
		nick[d.ID] = d.Nickname
	}
	emps, err := tx.RosterEmployees(companyID)
	if err != nil {
		return nil, err
	}
	name := map[string]string{}
	for _, e := range emps {
		if !e.Removed {
			name[e.ID] = e.Name
		}
	}
	type key struct{ emp, dev string }
	clocks := map[key]*BiometricClock{}
	for _, r := range recs { // by device, then the clock's sequence: its order
		k := key{r.Employee, r.DeviceID}
		c := clocks[k]
		if c == nil {
			c = &BiometricClock{DeviceID: r.DeviceID, Nickname: nick[r.DeviceID]}
			clocks[k] = c
		}
		switch r.Kind {
		case wire.BiometricConsent:
			c.Enrolled, c.ConsentAt, c.Supervisor = true, r.At, r.Supervisor
			c.DeletedAt, c.Reason = time.Time{}, ""
		case wire.BiometricDeleted:
			c.Enrolled, c.DeletedAt, c.Reason = false, r.At, r.Reason
		}
	}
	byEmp := map[string]*BiometricEmployee{}
	for k, c := range clocks {
		e := byEmp[k.emp]
		if e == nil {
			e = &BiometricEmployee{Employee: k.emp, Name: name[k.emp]}
			byEmp[k.emp] = e
		}
		e.Clocks = append(e.Clocks, *c)
	}
	out := make([]BiometricEmployee, 0, len(byEmp))
	for _, e := range byEmp {
		sort.Slice(e.Clocks, func(i, j int) bool { return e.Clocks[i].DeviceID < e.Clocks[j].DeviceID })
		out = append(out, *e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Employee < out[j].Employee })
	return out, nil
}
