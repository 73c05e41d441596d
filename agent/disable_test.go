package agent

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"timeclock/agent/store"
	"timeclock/wire"
)

func TestDisableRecordSaveLoad(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := loadDisable(st); ok {
		t.Fatal("a fresh state file is disabled")
	}
	issued := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	cmd := wire.Command{ID: "cmd-1", Type: wire.CmdDisable, By: "admin@acme.example", Issued: issued}
	r := beginDisable(cmd, issued.Add(time.Second))
	if err := saveDisable(st, r); err != nil {
		t.Fatal(err)
	}
	// Stored by name, as the state file has always had it.
	if got := string(st.Disabled()); got != `{"phase":"disabling","command":"cmd-1","by":"admin@acme.example","issued":"2026-11-23T09:00:00Z","at":"2026-11-23T09:00:01Z"}` {
		t.Fatalf("stored %s", got)
	}
	got, ok := loadDisable(st)
	if !ok || !reflect.DeepEqual(got, *r) {
		t.Fatalf("loaded %+v %v, want %+v", got, ok, *r)
	}
	if c := got.Command(); !reflect.DeepEqual(*c, cmd) {
		t.Fatalf("command %+v, want %+v", *c, cmd)
	}
	if err := saveDisable(st, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := loadDisable(st); ok {
		t.Fatal("still disabled after saveDisable(nil)")
	}
}

// Whatever cannot be read still means the administrator disabled the clock.
func TestUnreadableDisableRecordIsDisabled(t *testing.T) {
	for _, tc := range []struct {
		stored string
		want   disableRecord
	}{
		{`{"phase":"enabled","command":"c"}`, disableRecord{Phase: phaseEnabled, CommandID: "c"}},
		{`{"phase":"disabling","command":"c"}`, disableRecord{Phase: phaseDisabling, CommandID: "c"}},
		{`{"phase":"paused","command":"c","final_seq":7}`, disableRecord{Phase: phaseDisabled, CommandID: "c", FinalSeq: 7}},
		{`{"command":"c"}`, disableRecord{Phase: phaseDisabled, CommandID: "c"}},
		{`not json`, disableRecord{Phase: phaseDisabled}},
	} {
		if got := decodeDisable([]byte(tc.stored)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decodeDisable(%s) = %+v, want %+v", tc.stored, got, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"phase":"disabled","command":"c","by":"x","issued":"2026-11-23T09:00:00Z","at":"2026-11-23T09:00:01Z","final_seq":9}`,
		`{"phase":"disabling"}`, `{"phase":5}`, `{}`, `null`, ``, `{"phase":"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := decodeDisable(b)
		if r.Phase > phaseDisabled {
			t.Fatalf("decodeDisable(%q): phase %d", b, r.Phase)
		}
		// What was read is written back and read again the same.
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if again := decodeDisable(enc); again.Phase != r.Phase || again.CommandID != r.CommandID || again.FinalSeq != r.FinalSeq || !again.At.Equal(r.At) {
			t.Fatalf("decodeDisable(%q) = %+v; after a round trip %+v", b, r, again)
		}
	})
}
