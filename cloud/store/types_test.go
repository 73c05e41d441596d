package store

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestStatesPersistByName(t *testing.T) {
	for s, name := range sessionStateNames {
		b, err := json.Marshal(s)
		if err != nil || string(b) != `"`+name+`"` {
			t.Errorf("%v marshals to %s, %v", s, b, err)
		}
		var back SessionState
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%s reads back as %v, %v", b, back, err)
		}
	}
	for s, name := range deviceStatusNames {
		b, err := json.Marshal(s)
		if err != nil || string(b) != `"`+name+`"` {
			t.Errorf("%v marshals to %s, %v", s, b, err)
		}
		var back DeviceStatus
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("%s reads back as %v, %v", b, back, err)
		}
	}
}

func TestUnknownStateNamesAreErrors(t *testing.T) {
	var s SessionState
	if err := json.Unmarshal([]byte(`"sleeping"`), &s); err == nil || !strings.Contains(err.Error(), "sleeping") {
		t.Errorf("unknown session state: %v", err)
	}
	var d DeviceStatus
	if err := json.Unmarshal([]byte(`"lost"`), &d); err == nil {
		t.Error("unknown device status accepted")
	}
	if _, err := json.Marshal(SessionState(0)); err == nil {
		t.Error("the zero session state marshalled")
	}
}
