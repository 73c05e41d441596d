package cloudsync

import (
	"bytes"
	"errors"
	"fmt"

	"timeclock/agent/roster"
	"timeclock/wire"
)

// ErrRosterBase refuses a delta that is not from the clock's roster: the
// cloud answers it with a full roster.
var ErrRosterBase = errors.New("roster delta does not apply")

// decodeRoster reads a roster command's body and builds the roster it makes
// of cur. Any fault refuses the whole roster; cur stays in force.
func decodeRoster(body []byte, cur *roster.Roster) (*roster.Roster, error) {
	w, err := wire.DecodeRoster(body)
	if err != nil {
		return nil, err
	}
	return applyRoster(cur, w)
}

// applyRoster builds the roster w makes of cur: a full roster replaces it,
// a delta changes it and must start from exactly cur's version and salt.
func applyRoster(cur *roster.Roster, w wire.Roster) (*roster.Roster, error) {
	if w.Full {
		// The cloud's full roster replaces whatever the clock has (a
		// roster file included), whatever its version (docs/protocol.md).
		return roster.New(w.Version, w.Salt, employees(w.Employees))
	}
	if !bytes.Equal(cur.Salt(), w.Salt) {
		return nil, fmt.Errorf("%w: the clock has another roster (salt differs); send a full roster", ErrRosterBase)
	}
	if cur.Version() != w.BaseVersion {
		return nil, fmt.Errorf("%w: it is from version %d, the clock has version %d; send a full roster",
			ErrRosterBase, w.BaseVersion, cur.Version())
	}
	byID := map[string]int{}
	list := cur.Employees()
	for i, e := range list {
		byID[e.ID] = i
	}
	gone := map[string]bool{}
	for _, id := range w.Removed {
		gone[id] = true
	}
	for _, e := range employees(w.Employees) {
		if i, ok := byID[e.ID]; ok {
			list[i] = e
		} else {
			byID[e.ID] = len(list)
			list = append(list, e)
		}
	}
	kept := list[:0]
	for _, e := range list {
		if !gone[e.ID] {
			kept = append(kept, e)
		}
	}
	return roster.New(w.Version, w.Salt, kept)
}

func employees(ws []wire.RosterEmployee) []roster.Employee {
	out := make([]roster.Employee, len(ws))
	for i, e := range ws {
		out[i] = roster.Employee{
			ID: e.ID, Name: e.Name, Badges: e.Badges, PINHash: e.PINHash,
			Departments: e.Departments, Active: e.Active, Supervisor: e.Supervisor,
		}
	}
	return out
}
