package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func validPunch() Punch {
	return Punch{ID: "01JD3K0000000000000000000A", Seq: 1, Employee: "E100", Kind: KindIn,
		Time: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC), TZ: "America/Chicago", TZOffset: -6 * 3600, ClockSet: true}
}

func TestTopics(t *testing.T) {
	tp := Topic("dev-1", TopicCmdResult)
	if tp != "tc/v1/dev-1/cmd/result" {
		t.Fatalf("Topic = %q", tp)
	}
	id, suf, ok := SplitTopic(tp)
	if !ok || id != "dev-1" || suf != "cmd/result" {
		t.Fatalf("SplitTopic = %q %q %v", id, suf, ok)
	}
	for _, bad := range []string{"tc/v1/", "tc/v1/dev", "other/dev/x", "tc/v1//punches"} {
		if _, _, ok := SplitTopic(bad); ok {
			t.Errorf("SplitTopic(%q) accepted", bad)
		}
	}
}

func TestDecodePunchBatch(t *testing.T) {
	good := PunchBatch{Batch: 3, Punches: []Punch{validPunch()}}
	b, _ := json.Marshal(good)
	got, err := DecodePunchBatch(b)
	if err != nil || got.Batch != 3 || got.Punches[0].Employee != "E100" {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*Punch)
		want string
	}{
		{"no id", func(p *Punch) { p.ID = "" }, "id"},
		{"id with slash", func(p *Punch) { p.ID = "a/b" }, "printable"},
		{"seq 0", func(p *Punch) { p.Seq = 0 }, "seq"},
		{"bad kind", func(p *Punch) { p.Kind = "NAP" }, "kind"},
		{"nobody", func(p *Punch) { p.Employee = "" }, "neither"},
		{"no time", func(p *Punch) { p.Time = time.Time{} }, "time"},
		{"offset", func(p *Punch) { p.TZOffset = 100000 }, "tz_offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := validPunch()
			tc.mod(&p)
			b, _ := json.Marshal(PunchBatch{Punches: []Punch{p}})
			_, err := DecodePunchBatch(b)
			if !errors.Is(err, ErrPayload) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrPayload mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := DecodePunchBatch([]byte(`{"punches":`)); !errors.Is(err, ErrPayload) {
		t.Fatalf("truncated JSON: %v", err)
	}
}

func TestDecodeCommand(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"id":"c1","type":"disable"}`, true},
		{`{"id":"c1","type":"reboot"}`, true},
		{`{"id":"c1","type":"rename","nickname":"Front door"}`, true},
		{`{"id":"c1","type":"rename","nickname":"  "}`, false},
		{`{"id":"c1","type":"timezone","timezone":"Europe/Paris"}`, true},
		{`{"id":"c1","type":"timezone","timezone":"Mars/Base"}`, false},
		{`{"id":"c1","type":"roster","roster":{"version":2}}`, true},
		{`{"id":"c1","type":"roster"}`, false},
		{`{"id":"c1","type":"selfdestruct"}`, false},
		{`{"type":"disable"}`, false},
		{`[]`, false},
	} {
		c, err := DecodeCommand([]byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.body, err, tc.ok)
		}
		if strings.Contains(tc.body, `"id":"c1"`) && c.ID != "c1" {
			t.Errorf("%s: ID not kept for the error result", tc.body)
		}
	}
}

func TestDecodeAckAndStatus(t *testing.T) {
	if a, err := DecodeAck([]byte(`{"batch":1,"ids":["a","b"],"high_seq":9}`)); err != nil || len(a.IDs) != 2 || a.HighSeq != 9 {
		t.Fatalf("ack: %+v %v", a, err)
	}
	if _, err := DecodeAck([]byte(`{"ids":[""]}`)); err == nil {
		t.Fatal("empty id accepted")
	}
	if _, err := DecodeStatus([]byte(`{"device_id":"d","pending":-1}`)); err == nil {
		t.Fatal("negative pending accepted")
	}
	if s, err := DecodeStatus([]byte(`{"device_id":"d","online":true,"pending":2}`)); err != nil || !s.Online || s.Pending != 2 {
		t.Fatalf("status: %+v %v", s, err)
	}
	// roster_version: absent (an older clock) is nil, 0 (no roster) is
	// there; both go out as they came.
	for _, tc := range []struct {
		body string
		want *uint64
	}{
		{`{"device_id":"d","online":true}`, nil},
		{`{"device_id":"d","online":true,"roster_version":0}`, new(uint64)},
		{`{"device_id":"d","online":true,"roster_version":7}`, func() *uint64 { v := uint64(7); return &v }()},
	} {
		s, err := DecodeStatus([]byte(tc.body))
		if err != nil || (s.RosterVersion == nil) != (tc.want == nil) || (tc.want != nil && *s.RosterVersion != *tc.want) {
			t.Fatalf("%s: roster_version %v, %v", tc.body, s.RosterVersion, err)
		}
		out, _ := json.Marshal(s)
		if strings.Contains(string(out), `"roster_version"`) != (tc.want != nil) {
			t.Fatalf("%s: encoded again as %s", tc.body, out)
		}
	}
	if _, err := DecodeStatus([]byte(`{"device_id":"d","roster_version":-1}`)); err == nil {
		t.Fatal("negative roster_version accepted")
	}
	big := make([]byte, MaxPayload+1)
	if _, err := DecodeStatus(big); !errors.Is(err, ErrPayload) {
		t.Fatalf("oversized: %v", err)
	}
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{`{"id":"c1","type":"disable"}`, `{"id":"c","type":"roster","roster":{}}`, `{"id":"c","type":"timezone","timezone":"UTC"}`, `{`, `null`,
		`{"id":"c1","type":"reboot","time":"2026-12-02T09:00:00.5Z"}`, `{"id":"c1","type":"reboot","time":"0000-01-01T00:00:00Z"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCommand(b)
		if err != nil {
			if !errors.Is(err, ErrPayload) {
				t.Fatalf("error not ErrPayload: %v", err)
			}
			return
		}
		if checkID("id", c.ID) != nil {
			t.Fatalf("accepted bad id %q", c.ID)
		}
	})
}

func FuzzDecodeAck(f *testing.F) {
	for _, s := range []string{`{"batch":1,"ids":["a"],"high_seq":1}`, `{"ids":null}`, `{}`, `x`,
		`{"batch":2,"ids":["a"],"corrected":["a"],"time":"2026-12-02T09:00:00.123Z"}`,
		`{"time":"1970-01-01T00:00:00Z"}`, `{"time":"9999-12-31T23:59:59.999999999+14:00"}`, `{"time":"-0001-01-01T00:00:00Z"}`,
		`{"time":"2026-13-40T25:61:61Z"}`, `{"time":12345}`, `{"time":null}`, `{"corrected":[""]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAck(b)
		if err != nil {
			return
		}
		if len(a.IDs) > MaxBatch || len(a.Corrected) > MaxBatch {
			t.Fatal("accepted an oversized ack")
		}
		for _, id := range append(a.IDs, a.Corrected...) {
			if checkID("id", id) != nil {
				t.Fatalf("accepted bad id %q", id)
			}
		}
		// The time field survives a round trip whatever it says; the clock's
		// floor, not the decoder, judges it.
		if out, err := json.Marshal(a); err == nil {
			back, err := DecodeAck(out)
			if err != nil || !back.Time.Equal(a.Time) {
				t.Fatalf("time %v did not round-trip: %v %v", a.Time, back.Time, err)
			}
		}
	})
}

func FuzzDecodePunchBatch(f *testing.F) {
	b, _ := json.Marshal(PunchBatch{Batch: 1, Punches: []Punch{validPunch()}})
	f.Add(b)
	f.Add([]byte(`{"punches":[{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pb, err := DecodePunchBatch(b)
		if err != nil {
			return
		}
		for _, p := range pb.Punches {
			if p.Validate() != nil {
				t.Fatal("accepted an invalid punch")
			}
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add([]byte(`{"device_id":"d","online":true}`))
	f.Add([]byte(`{"device_id":"d","online":true,"roster_version":0}`))
	f.Add([]byte(`{"device_id":"d","online":true,"roster_version":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeStatus(b)
		if err == nil && (s.Pending < 0 || checkID("device_id", s.DeviceID) != nil) {
			t.Fatal("accepted an invalid status")
		}
	})
}

// A punch says clock_set; clocks from before the rename say synced, and the
// cloud still takes their punches with the clock set.
func TestPunchClockSetAndOldSynced(t *testing.T) {
	b, err := json.Marshal(validPunch())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"clock_set":true`) || strings.Contains(string(b), `"synced"`) {
		t.Fatalf("encoded %s", b)
	}
	for _, tc := range []struct {
		json string
		want bool
	}{
		{`{"id":"a","seq":1,"kind":"IN","clock_set":true}`, true},
		{`{"id":"a","seq":1,"kind":"IN","clock_set":false}`, false},
		{`{"id":"a","seq":1,"kind":"IN","synced":true}`, true},
		{`{"id":"a","seq":1,"kind":"IN","synced":false}`, false},
		{`{"id":"a","seq":1,"kind":"IN"}`, false},
	} {
		var p Punch
		if err := json.Unmarshal([]byte(tc.json), &p); err != nil || p.ClockSet != tc.want || p.ID != "a" || p.Seq != 1 || p.Kind != KindIn {
			t.Errorf("%s: %+v %v, want clock set %v", tc.json, p, err, tc.want)
		}
	}
	old := `{"batch":1,"punches":[{"id":"01JD3K0000000000000000000A","seq":1,"employee":"E100","kind":"IN",` +
		`"time":"2026-11-22T08:00:00Z","tz":"America/Chicago","tz_offset":-21600,"synced":true}]}`
	pb, err := DecodePunchBatch([]byte(old))
	if err != nil || !pb.Punches[0].ClockSet || pb.Punches[0] != validPunch() {
		t.Fatalf("an old clock's batch: %+v %v", pb, err)
	}
}

// A check-in says ntp_synced; clocks from before the rename say
// clock_synced, and the cloud still reads it.
func TestStatusNTPSyncedAndOldClockSynced(t *testing.T) {
	b, err := json.Marshal(Status{DeviceID: "d", NTPSynced: true})
	if err != nil || !strings.Contains(string(b), `"ntp_synced":true`) || strings.Contains(string(b), "clock_synced") {
		t.Fatalf("encoded %s %v", b, err)
	}
	for _, tc := range []struct {
		json string
		want bool
	}{
		{`{"device_id":"d","pending":1,"ntp_synced":true}`, true},
		{`{"device_id":"d","pending":1,"clock_synced":true}`, true},
		{`{"device_id":"d","pending":1,"clock_synced":false}`, false},
		{`{"device_id":"d","pending":1}`, false},
	} {
		s, err := DecodeStatus([]byte(tc.json))
		if err != nil || s.NTPSynced != tc.want || s.DeviceID != "d" || s.Pending != 1 {
			t.Errorf("%s: %+v %v, want NTP synced %v", tc.json, s, err, tc.want)
		}
	}
}

// The time fields are additive: an old cloud's ack (no time, no corrected)
// and an old clock's punch (no time_source) decode as before.
func TestTimeFieldsAreAdditive(t *testing.T) {
	a, err := DecodeAck([]byte(`{"batch":1,"ids":["a"],"high_seq":1}`))
	if err != nil || !a.Time.IsZero() || a.Corrected != nil {
		t.Fatalf("old ack: %+v %v", a, err)
	}
	b, _ := json.Marshal(Ack{Batch: 1, IDs: []string{}})
	if strings.Contains(string(b), "time") || strings.Contains(string(b), "corrected") {
		t.Errorf("ack without time says %s", b)
	}
	at := time.Date(2026, 12, 2, 9, 0, 0, 123e6, time.UTC)
	b, _ = json.Marshal(Ack{Batch: 1, IDs: []string{"a"}, Corrected: []string{"a"}, Time: at})
	a, err = DecodeAck(b)
	if err != nil || !a.Time.Equal(at) || len(a.Corrected) != 1 {
		t.Fatalf("new ack %s: %+v %v", b, a, err)
	}
	p := validPunch()
	b, _ = json.Marshal(p)
	if strings.Contains(string(b), "time_source") || strings.Contains(string(b), "original_time") {
		t.Errorf("punch without a source says %s", b)
	}
	p.TimeSource = "nonsense"
	if p.Validate() == nil {
		t.Error("accepted time_source nonsense")
	}
	p.TimeSource, p.OriginalTime = "unset", at
	if p.Validate() == nil {
		t.Error("accepted original_time on a punch not corrected")
	}
	p.Corrected = true
	if err := p.Validate(); err != nil {
		t.Errorf("corrected punch: %v", err)
	}
}

// A clock's storage notice is clipped to what the cloud takes; a longer
// one, from anything else, is refused with the reason.
func TestStorageNoticeBound(t *testing.T) {
	long := "storage damaged at 2026-12-02T10:00:00Z: " + strings.Repeat("é", 400) + "; 3 records salvaged, 0 unreadable"
	clipped := ClipStorage(long)
	if len(clipped) > MaxStorageLen || !utf8.ValidString(clipped) || !strings.HasSuffix(clipped, "...") || !strings.HasPrefix(long, strings.TrimSuffix(clipped, "...")) {
		t.Fatalf("ClipStorage: %d bytes, valid UTF-8 %v: %q", len(clipped), utf8.ValidString(clipped), clipped)
	}
	if short := "storage lost at 2026-12-02T10:00:00Z: gone"; ClipStorage(short) != short {
		t.Fatalf("ClipStorage changed a short notice: %q", ClipStorage(short))
	}
	for _, n := range []string{clipped, strings.Repeat("x", MaxStorageLen)} {
		b, _ := json.Marshal(Status{DeviceID: "d", Storage: n})
		if s, err := DecodeStatus(b); err != nil || s.Storage != n {
			t.Fatalf("a notice of %d bytes: %v", len(n), err)
		}
	}
	b, _ := json.Marshal(Status{DeviceID: "d", Storage: strings.Repeat("x", MaxStorageLen+1)})
	if _, err := DecodeStatus(b); !errors.Is(err, ErrPayload) || !strings.Contains(err.Error(), "storage notice of 513 bytes") {
		t.Fatalf("a notice of %d bytes: %v", MaxStorageLen+1, err)
	}
}
