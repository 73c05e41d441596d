package store

import (
	"encoding/json"
	"fmt"
)

// DecodeRecord reads a stored record (JSON) into v and checks what JSON
// alone cannot: a state or status kept by name must be one (a record
// without one would read as the zero value, which has no name and could
// never be written back). The stores call it for every record they read; an
// error is a corrupt record.
func DecodeRecord(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	if c, ok := v.(interface{ checkRecord() error }); ok {
		return c.checkRecord()
	}
	return nil
}

func (s *Session) checkRecord() error {
	if _, ok := sessionStateNames[s.State]; !ok {
		return fmt.Errorf("session %q: no state", s.ID)
	}
	return nil
}

func (d *Device) checkRecord() error {
	if _, ok := deviceStatusNames[d.Status]; !ok {
		return fmt.Errorf("device %q: no status", d.ID)
	}
	return nil
}

func (m *MobileInstall) checkRecord() error {
	if _, ok := platformNames[m.Platform]; !ok {
		return fmt.Errorf("mobile install %q: no platform", m.ID)
	}
	if _, ok := deviceStatusNames[m.Status]; !ok {
		return fmt.Errorf("mobile install %q: no status", m.ID)
	}
	return nil
}
