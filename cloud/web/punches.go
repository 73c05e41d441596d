package web

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"timeclock/cloud/access"
	"timeclock/cloud/store"
)

// maxPunchRows bounds the punches page: the newest this many.
const maxPunchRows = 500

// PunchRow is one punch on the Punches page.
type PunchRow struct {
	Time       time.Time // UTC
	TZ         string    // the zone the clock showed
	Kind       string
	Employee   string // the roster's name, else the ID, else "Unknown badge"
	Department string
	Clock      string // the clock's nickname
	// Known says how the time was known: "clock set", "corrected" (taken
	// before the clock knew the time, corrected since) or "not set".
	Known string
	// Original is the time the clock first sent for a corrected punch (zero
	// otherwise): the record keeps both.
	Original time.Time
	Received time.Time
}

type punchesData struct {
	Timezone string
	Clocks   []store.Device
	People   []store.RosterEmployee
	Device   string // the clock chosen, "" for all
	Employee string // the employee chosen, "" for all
	Rows     []PunchRow
	More     bool // there were more than maxPunchRows
}

// punches lists the company's punches, newest first, per clock
// (?device=ID) or per employee (?employee=ID) or both.
func (s *server) punches(w http.ResponseWriter, r *http.Request, sess *access.Session) {
	d := punchesData{Timezone: sess.Company.Timezone, Device: r.URL.Query().Get("device"), Employee: r.URL.Query().Get("employee")}
	err := s.Store.View(r.Context(), func(tx store.Tx) error {
		devs, err := tx.Devices(sess.User.CompanyID)
		if err != nil {
			return err
		}
		emps, err := tx.RosterEmployees(sess.User.CompanyID)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, e := range emps {
			names[e.ID] = e.Name
			if !e.Removed {
				d.People = append(d.People, e)
			}
		}
		d.Clocks = devs
		for _, dev := range devs {
			if d.Device != "" && dev.ID != d.Device {
				continue
			}
			after := ""
			for {
				ps, err := tx.Punches(dev.ID, after, 1000)
				if err != nil {
					return err
				}
				for _, p := range ps {
					if d.Employee != "" && p.Employee != d.Employee {
						continue
					}
					d.Rows = append(d.Rows, punchRow(p, dev, names))
				}
				if len(ps) < 1000 {
					break
				}
				after = ps[len(ps)-1].ID
			}
		}
		return nil
	})
	if err != nil {
		s.internal(w, r, sess, err)
		return
	}
	slices.SortFunc(d.Rows, func(a, b PunchRow) int { return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(a.Clock, b.Clock)) })
	if len(d.Rows) > maxPunchRows {
		d.Rows, d.More = d.Rows[:maxPunchRows], true
	}
	s.render(w, r, http.StatusOK, "punches", view{Title: "Punches", Nav: "punches", Sess: sess, CSRF: sess.CSRF, Data: d})
}

func punchRow(p store.Punch, dev store.Device, names map[string]string) PunchRow {
	who := names[p.Employee]
	switch {
	case who != "":
	case p.Employee != "":
		who = p.Employee
	default:
		who = "Unknown badge " + p.Badge
	}
	known := "clock set"
	switch {
	case p.Corrected:
		known = "corrected"
	case !p.ClockSet:
		known = "not set"
	}
	return PunchRow{Time: p.Time, TZ: p.TZ, Kind: string(p.Kind), Employee: who, Department: p.Department,
		Clock: dev.Nickname, Known: known, Original: p.OriginalTime, Received: p.ReceivedAt}
}
