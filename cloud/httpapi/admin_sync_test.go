package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"timeclock/clock"
	"timeclock/cloud/bus/bustest"
	"timeclock/cloud/registry"
	"timeclock/cloud/roster"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/wire"
)

type syncEnv struct {
	t   *testing.T
	srv *httptest.Server
	st  store.Store
	bus *bustest.Bus
	log *bytes.Buffer
}

func newSyncEnv(t *testing.T) *syncEnv {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Update(context.Background(), func(tx store.Tx) error {
		tx.PutCompany(store.Company{ID: companyID, Name: "Acme Builders", Timezone: "America/Chicago"})
		tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash(adminToken), CompanyID: companyID, UserEmail: "ada@acme.example"})
		tx.PutAdminToken(store.AdminToken{Hash: store.TokenHash("other-token-0123456789"), CompanyID: "777777", UserEmail: "eve@other.example"})
		tx.PutDevice(store.Device{ID: "d1", CompanyID: companyID, Serial: "S1", Model: "BN6500", Nickname: "Front", Status: store.DeviceApproved, CertSerial: "ab"})
		return tx.PutDevice(store.Device{ID: "d2", CompanyID: companyID, Serial: "S2", Model: "BN6500", Nickname: "Back", Status: store.DeviceApproved})
	})
	e := &syncEnv{t: t, st: db, bus: &bustest.Bus{}, log: &bytes.Buffer{}}
	clk := clock.NewFake(t0)
	log := slog.New(slog.NewTextHandler(e.log, nil))
	reg, err := registry.New(registry.DefaultConfig(), registry.Deps{Store: db, Clock: clk, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	reg.Start(context.Background(), e.bus, nil)
	e.srv = httptest.NewServer(NewAPI(Deps{Store: db, Clock: clk, Log: log, Devices: reg}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *syncEnv) do(method, path, token, body string, out any) (int, *wire.Error) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return decodeResp(e.t, resp, out)
}

func TestDisableThroughTheAPI(t *testing.T) {
	e := newSyncEnv(t)
	var row DeviceRow
	if st, we := e.do("POST", "/api/v1/devices/d1/disable", adminToken, "", &row); we != nil || st != 200 {
		t.Fatalf("disable: %d %v", st, we)
	}
	if row.Status != "disabling" || row.DisabledBy != "ada@acme.example" || !row.DisabledDate.Equal(t0) || row.LastTransmission != "waiting" {
		t.Fatalf("row %+v", row)
	}
	if m := e.bus.Published(wire.Topic("d1", wire.TopicCmd)); len(m) != 1 || !m[0].Retain {
		t.Fatalf("disable command %+v", m)
	}
	var list DeviceList
	e.do("GET", "/api/v1/devices", adminToken, "", &list)
	if len(list.Approved) != 1 || len(list.Disabled) != 1 || list.Disabled[0].ID != "d1" {
		t.Fatalf("list %+v", list)
	}
	// At once, without waiting: a lost clock.
	e.do("POST", "/api/v1/devices/d2/disable", adminToken, `{"now":true}`, &row)
	if row.Status != "disabled" || row.LastTransmission != "skipped" {
		t.Fatalf("disable now: %+v", row)
	}
	// Another company's administrator cannot see or disable it.
	_, we := e.do("POST", "/api/v1/devices/d1/disable", "other-token-0123456789", "", &row)
	wantErr(t, we, wire.ErrNotFound)
	_, we = e.do("GET", "/api/v1/devices/d1", "other-token-0123456789", "", &row)
	wantErr(t, we, wire.ErrNotFound)
	_, we = e.do("POST", "/api/v1/devices/d1/disable", adminToken, `{"now":"yes"}`, &row)
	wantErr(t, we, wire.ErrBadRequest)
	_, we = e.do("POST", "/api/v1/devices/nope/disable", adminToken, ``, &row)
	wantErr(t, we, wire.ErrNotFound)
}

// A disabled clock is enabled again through the API (it may then be
// onboarded again); an approved one cannot be.
func TestEnableThroughTheAPI(t *testing.T) {
	e := newSyncEnv(t)
	var row DeviceRow
	if _, we := e.do("POST", "/api/v1/devices/d1/enable", adminToken, "", &row); we == nil || we.Code != wire.ErrBadRequest {
		t.Fatalf("enable of an approved clock: %v", we)
	}
	e.do("POST", "/api/v1/devices/d2/disable", adminToken, `{"now":true}`, &row)
	if st, we := e.do("POST", "/api/v1/devices/d2/enable", adminToken, "", &row); we != nil || st != 200 || row.EnabledBy == "" || row.Status != "disabled" {
		t.Fatalf("enable: %d %v %+v", st, we, row)
	}
	if _, we := e.do("POST", "/api/v1/devices/d2/enable", "other-token-0123456789", "", &row); we == nil {
		t.Fatal("another company enabled it")
	}
}

func TestRenameAndCommandsThroughTheAPI(t *testing.T) {
	e := newSyncEnv(t)
	var row DeviceRow
	if _, we := e.do("POST", "/api/v1/devices/d1/rename", adminToken, `{"nickname":"Loading dock"}`, &row); we != nil || row.Nickname != "Loading dock" {
		t.Fatalf("rename: %v %+v", we, row)
	}
	var acc CommandAccepted
	if st, we := e.do("POST", "/api/v1/devices/d1/commands", adminToken, `{"type":"reboot"}`, &acc); we != nil || st != 202 || acc.Type != wire.CmdReboot {
		t.Fatalf("reboot: %d %v", st, we)
	}
	cmds := e.bus.Published(wire.Topic("d1", wire.TopicCmd))
	if len(cmds) != 2 || !strings.Contains(string(cmds[0].Payload), `"nickname":"Loading dock"`) || !strings.Contains(string(cmds[1].Payload), acc.ID) {
		t.Fatalf("commands published %+v", cmds)
	}
	for _, body := range []string{`{"nickname":""}`, `{"nickname":"` + strings.Repeat("x", 70) + `"}`, `{"nick":"x"}`} {
		_, we := e.do("POST", "/api/v1/devices/d1/rename", adminToken, body, &row)
		wantErr(t, we, wire.ErrBadRequest)
	}
	for _, body := range []string{`{"type":"disable"}`, `{"type":"timezone"}`, `{"type":"timezone","timezone":"Nowhere/Land"}`, `{"type":"reboot","timezone":"UTC"}`} {
		_, we := e.do("POST", "/api/v1/devices/d1/commands", adminToken, body, &acc)
		wantErr(t, we, wire.ErrBadRequest)
	}
}

func TestPunchesThroughTheAPI(t *testing.T) {
	e := newSyncEnv(t)
	e.st.Update(context.Background(), func(tx store.Tx) error {
		for i := 1; i <= 5; i++ {
			tx.PutPunch(store.Punch{DeviceID: "d1", CompanyID: companyID, Punch: wire.Punch{ID: fmt.Sprintf("p%02d", i), Seq: uint64(i),
				Employee: "E100", Kind: wire.KindIn, Time: t0, TZ: "UTC"}, ReceivedAt: t0})
		}
		return nil
	})
	var l PunchList
	if _, we := e.do("GET", "/api/v1/punches?device=d1&limit=3", adminToken, "", &l); we != nil || len(l.Punches) != 3 || l.Next != "p03" {
		t.Fatalf("page 1: %v %+v", we, l)
	}
	next := l.Next
	l = PunchList{}
	if _, we := e.do("GET", "/api/v1/punches?device=d1&limit=3&after="+next, adminToken, "", &l); we != nil || len(l.Punches) != 2 || l.Next != "" || l.Punches[0].ID != "p04" {
		t.Fatalf("page 2: %v %+v", we, l)
	}
	_, we := e.do("GET", "/api/v1/punches?device=d1", "other-token-0123456789", "", &l)
	wantErr(t, we, wire.ErrNotFound)
	_, we = e.do("GET", "/api/v1/punches?device=d1&limit=0", adminToken, "", &l)
	wantErr(t, we, wire.ErrBadRequest)
}

func TestRosterThroughTheAPI(t *testing.T) {
	e := newSyncEnv(t)
	put := `{"employees":[
		{"id":"E100","name":"Ada Lovelace","badges":["10001"],"pin":"1234","departments":["Assembly"]},
		{"id":"E101","name":"Grace Hopper","badges":["10002"],"pin":"2345","active":false}]}`
	var up RosterUpdated
	if _, we := e.do("PUT", "/api/v1/roster", adminToken, put, &up); we != nil || up.Version != 1 || up.Employees != 2 || up.PushedTo != 2 {
		t.Fatalf("put: %v %+v", we, up)
	}
	var v roster.View
	e.do("GET", "/api/v1/roster", adminToken, "", &v)
	if v.Version != 1 || len(v.Employees) != 2 || !v.Employees[0].HasPIN || v.Employees[1].Active || v.UpdatedBy != "ada@acme.example" {
		t.Fatalf("view %+v", v)
	}
	// Each clock got a full roster command.
	for _, id := range []string{"d1", "d2"} {
		m := e.bus.Published(wire.Topic(id, wire.TopicCmd))
		c, err := wire.DecodeCommand(m[len(m)-1].Payload)
		if err != nil || c.Type != wire.CmdRoster {
			t.Fatalf("%s: %v %+v", id, err, c)
		}
		if r, err := wire.DecodeRoster(c.Roster); err != nil || !r.Full || len(r.Employees) != 2 {
			t.Fatalf("%s roster: %v %+v", id, err, r)
		}
	}
	if _, we := e.do("PATCH", "/api/v1/roster", adminToken, `{"remove":["E101"]}`, &up); we != nil || up.Version != 2 || up.Removed != 1 {
		t.Fatalf("patch: %v %+v", we, up)
	}
	// The same PUT twice: nothing changes, nothing is pushed.
	e.bus.Reset()
	e.do("PUT", "/api/v1/roster", adminToken, `{"employees":[{"id":"E100","name":"Ada Lovelace","badges":["10001"],"departments":["Assembly"]}]}`, &up)
	if up.Version != 2 || up.Changed != 0 || up.PushedTo != 0 || len(e.bus.Published(wire.Topic("d1", wire.TopicCmd))) != 0 {
		t.Fatalf("unchanged put: %+v", up)
	}
	for body, want := range map[string]string{
		`{"employees":[{"id":"E9","name":"X","pin":"12"}]}`:         "employees[0].pin: must be 4 to 8 digits",
		`{"employees":[{"id":"E9","name":"X","pin_hash":"00"}]}`:    "unknown field",
		`{"employees":[{"id":"E9","name":"X","badges":["10001"]}]}`: "",
		`{}`: "employees: missing",
		`{"employees":[{"id":"E9","name":"X","badges":["1"]},{"id":"E8","name":"Y","badges":["01"]}]}`:   "employees[0].badges[0]: badge 1 of E9 already belongs to E8",
		`{"employees":[{"id":"E9","name":"X","badges":["12:1"]},{"id":"E8","name":"Y","badges":["1"]}]}`: "employees[0].badges[0]: badge 12:1 of E9 collides with badge 1 of E8",
	} {
		_, we := e.do("PUT", "/api/v1/roster", adminToken, body, &up)
		if want == "" {
			if we != nil {
				t.Errorf("%s: %v", body, we)
			}
			continue
		}
		if we == nil || we.Code != wire.ErrBadRequest || !strings.Contains(we.Message, want) {
			t.Errorf("%s: %v, want bad_request with %q", body, we, want)
		}
	}
	if strings.Contains(e.log.String(), "1234") || strings.Contains(e.log.String(), "2345") {
		t.Fatal("a PIN reached the log")
	}
	_, we := e.do("PATCH", "/api/v1/roster", adminToken, `{}`, &up)
	wantErr(t, we, wire.ErrBadRequest)
}

func FuzzDecodeAdminBodies(f *testing.F) {
	for _, s := range []string{`{"now":true}`, `{"nickname":"Front"}`, `{"type":"timezone","timezone":"UTC"}`,
		`{"employees":[{"id":"E1","name":"A","pin":"1234"}]}`, `{"upsert":[{"id":"E1","name":"A","badges":["1"]}],"remove":["E2"]}`,
		``, `{}`, `{"x":1}`, `[`, `{"employees":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(name string, e *wire.Error) {
			if e != nil && e.Code != wire.ErrBadRequest {
				t.Fatalf("%s: code %s", name, e.Code)
			}
		}
		_, e := decodeDisableRequest(bytes.NewReader(b), int64(len(b)))
		check("disable", e)
		rn, e := decodeRenameRequest(bytes.NewReader(b))
		check("rename", e)
		if e == nil && strings.TrimSpace(rn.Nickname) == "" {
			t.Fatal("empty nickname accepted")
		}
		c, e := decodeCommandRequest(bytes.NewReader(b))
		check("command", e)
		if e == nil && c.Type != wire.CmdReboot && c.Type != wire.CmdTimezone {
			t.Fatalf("command type %q accepted", c.Type)
		}
		ch, e := decodeRosterPut(bytes.NewReader(b))
		check("roster put", e)
		if e == nil && (!ch.Full || ch.Upsert == nil) {
			t.Fatal("a put without employees accepted")
		}
		ch, e = decodeRosterPatch(bytes.NewReader(b))
		check("roster patch", e)
		if e == nil && ch.Full {
			t.Fatal("a patch became a full replace")
		}
	})
}
