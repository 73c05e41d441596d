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

func TestPlatformsPersistByName(t *testing.T) {
	for p, name := range platformNames {
		b, err := json.Marshal(p)
		if err != nil || string(b) != `"`+name+`"` {
			t.Errorf("%v marshals to %s, %v", p, b, err)
		}
		var back MobilePlatform
		if err := json.Unmarshal(b, &back); err != nil || back != p {
			t.Errorf("%s reads back as %v, %v", b, back, err)
		}
	}
	var p MobilePlatform
	if err := json.Unmarshal([]byte(`"windows"`), &p); err == nil {
		t.Error("unknown platform accepted")
	}
	if PlatformIOS.Label() != "iPhone (iOS)" || PlatformAndroid.Label() != "Android" {
		t.Errorf("labels %q %q", PlatformIOS.Label(), PlatformAndroid.Label())
	}
}
