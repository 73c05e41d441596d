package boltstore

import (
	"bytes"
	"fmt"
	"sort"
	"time"

	"timeclock/cloud/store"
	"timeclock/wire"
)

func (t *txn) AllDevices() ([]store.Device, error) {
	var out []store.Device
	err := t.tx.Bucket(bucketDevices).ForEach(func(k, b []byte) error {
		var d store.Device
		if err := store.DecodeRecord(b, &d); err != nil {
			return fmt.Errorf("device %q: corrupt record: %w", k, err)
		}
		out = append(out, d)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

func (t *txn) PutPunch(p store.Punch) (bool, error) {
	if err := required("punch", p.DeviceID, p.ID); err != nil {
		return false, err
	}
	key := pair(p.DeviceID, p.ID)
	if t.tx.Bucket(bucketPunches).Get(key) != nil {
		return false, nil
	}
	return true, put(t.tx, bucketPunches, key, p)
}

func (t *txn) CorrectPunch(deviceID string, c wire.Punch, at time.Time) (bool, error) {
	if err := required("punch", deviceID, c.ID); err != nil {
		return false, err
	}
	key := pair(deviceID, c.ID)
	b := t.tx.Bucket(bucketPunches).Get(key)
	if b == nil {
		return false, nil
	}
	var p store.Punch
	if err := store.DecodeRecord(b, &p); err != nil {
		return false, fmt.Errorf("punch %q: corrupt record: %w", key, err)
	}
	if !p.Correct(c, at) {
		return true, nil
	}
	return true, put(t.tx, bucketPunches, key, p)
}

func (t *txn) Punches(deviceID, after string, limit int) ([]store.Punch, error) {
	var out []store.Punch
	pfx := prefix(deviceID)
	c := t.tx.Bucket(bucketPunches).Cursor()
	k, b := c.Seek(pfx)
	if after != "" {
		k, b = c.Seek(pair(deviceID, after))
		if k != nil && bytes.Equal(k, pair(deviceID, after)) {
			k, b = c.Next()
		}
	}
	for ; k != nil && bytes.HasPrefix(k, pfx) && len(out) < limit; k, b = c.Next() {
		var p store.Punch
		if err := store.DecodeRecord(b, &p); err != nil {
			return nil, fmt.Errorf("punch %q: corrupt record: %w", k, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func (t *txn) Commands(deviceID string) ([]store.Command, error) {
	return scan[store.Command](t.tx, bucketCommands, prefix(deviceID), "command")
}

func (t *txn) PutCommand(c store.Command) error {
	if err := required("command", c.DeviceID, c.Cmd.ID); err != nil {
		return err
	}
	return put(t.tx, bucketCommands, pair(c.DeviceID, c.Cmd.ID), c)
}

func (t *txn) DeleteCommand(deviceID, id string) error {
	return t.tx.Bucket(bucketCommands).Delete(pair(deviceID, id))
}

func (t *txn) Roster(companyID string) (store.Roster, error) {
	return get[store.Roster](t.tx, bucketRosters, []byte(companyID), "roster")
}

func (t *txn) PutRoster(r store.Roster) error {
	if err := required("roster", r.CompanyID); err != nil {
		return err
	}
	return put(t.tx, bucketRosters, []byte(r.CompanyID), r)
}

func (t *txn) RosterEmployees(companyID string) ([]store.RosterEmployee, error) {
	return scan[store.RosterEmployee](t.tx, bucketRosterEmps, prefix(companyID), "roster employee")
}

func (t *txn) PutRosterEmployee(e store.RosterEmployee) error {
	if err := required("roster employee", e.CompanyID, e.ID); err != nil {
		return err
	}
	return put(t.tx, bucketRosterEmps, pair(e.CompanyID, e.ID), e)
}
