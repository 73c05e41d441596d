package disable

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"timeclock/agent/store"
	"timeclock/wire"
)

func TestSaveLoad(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := Load(st); ok {
		t.Fatal("a fresh state file is disabled")
	}
	issued := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	cmd := wire.Command{ID: "cmd-1", Type: wire.CmdDisable, By: "admin@acme.example", Issued: issued}
	r := Begin(cmd, issued.Add(time.Second))
	if err := Save(st, r); err != nil {
		t.Fatal(err)
	}
	// Stored by name, as the state file has always had it.
	if got := string(st.Disabled()); got != `{"phase":"disabling","command":"cmd-1","by":"admin@acme.example","issued":"2026-11-23T09:00:00Z","at":"2026-11-23T09:00:01Z"}` {
		t.Fatalf("stored %s", got)
	}
	got, ok := Load(st)
	if !ok || !reflect.DeepEqual(got, *r) {
		t.Fatalf("loaded %+v %v, want %+v", got, ok, *r)
	}
	if c := got.Command(); !reflect.DeepEqual(*c, cmd) {
		t.Fatalf("command %+v, want %+v", *c, cmd)
	}
	if err := Save(st, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := Load(st); ok {
		t.Fatal("still disabled after Save(nil)")
	}
}

// Whatever cannot be read still means the administrator disabled the clock.
func TestUnreadableRecordIsDisabled(t *testing.T) {
	for _, tc := range []struct {
		stored string
		want   Record
	}{
		{`{"phase":"enabled","command":"c"}`, Record{Phase: Enabled, CommandID: "c"}},
		{`{"phase":"disabling","command":"c"}`, Record{Phase: Disabling, CommandID: "c"}},
		{`{"phase":"paused","command":"c","final_seq":7}`, Record{Phase: Disabled, CommandID: "c", FinalSeq: 7}},
		{`{"command":"c"}`, Record{Phase: Disabled, CommandID: "c"}},
		{`not json`, Record{Phase: Disabled}},
	} {
		if got := decode([]byte(tc.stored)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("decode(%s) = %+v, want %+v", tc.stored, got, tc.want)
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
		r := decode(b)
		if r.Phase > Disabled {
			t.Fatalf("decode(%q): phase %d", b, r.Phase)
		}
		// What was read is written back and read again the same.
		enc, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if again := decode(enc); again.Phase != r.Phase || again.CommandID != r.CommandID || again.FinalSeq != r.FinalSeq || !again.At.Equal(r.At) {
			t.Fatalf("decode(%q) = %+v; after a round trip %+v", b, r, again)
		}
	})
}
