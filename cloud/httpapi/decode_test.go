package httpapi

import (
	"strings"
	"testing"

	"timeclock/wire"
)

func TestDecodeRequests(t *testing.T) {
	dev := `"device":{"serial":"BN65-000042","model":"BN6500","firmware":"1.2.0"}`
	for _, tc := range []struct {
		name, body, want string // want: "" ok, else a bit of the message
		dec              func(string) *wire.Error
	}{
		{"company ok", `{"company_id":"482913",` + dev + `}`, "", company},
		{"company unknown fields ok", `{"company_id":"482913","colour":1,` + dev + `}`, "", company},
		{"company letters", `{"company_id":"48a913",` + dev + `}`, "company_id", company},
		{"company short", `{"company_id":"123",` + dev + `}`, "company_id", company},
		{"company missing device", `{"company_id":"482913"}`, "device.serial", company},
		{"company wrong type", `{"company_id":482913,` + dev + `}`, "field company_id", company},
		{"company empty", ``, "empty body", company},
		{"company not json", `hello`, "not JSON", company},
		{"company trailing", `{"company_id":"482913",` + dev + `} {}`, "after the JSON", company},
		{"company array", `[]`, "body", company},
		{"serial with space", `{"company_id":"482913","device":{"serial":"BN 1","model":"BN6500"}}`, "device.serial", company},
		{"serial with a path", `{"company_id":"482913","device":{"serial":"../../etc","model":"BN6500"}}`, "device.serial", company},
		{"model with markup", `{"company_id":"482913","device":{"serial":"B1","model":"<script>"}}`, "device.model", company},
		{"serial NUL", `{"company_id":"482913","device":{"serial":"BN\u00001","model":"BN6500"}}`, "device.serial", company},
		{"firmware control", `{"company_id":"482913","device":{"serial":"B1","model":"BN6500","firmware":"1\n2"}}`, "firmware", company},
		{"code ok", `{"company_id":"482913",` + dev + `}`, "", code},
		{"resend without session", `{"company_id":"482913","resend":true,` + dev + `}`, "session_id", code},
		{"resend ok", `{"company_id":"482913","resend":true,"session_id":"abc_-1",` + dev + `}`, "", code},
		{"activate ok", `{"session_id":"abc","code":"012345","csr":"x",` + dev + `}`, "", activate},
		{"activate short code", `{"session_id":"abc","code":"12345","csr":"x",` + dev + `}`, "6 digits", activate},
		{"activate no csr", `{"session_id":"abc","code":"012345",` + dev + `}`, "csr", activate},
		{"activate no session", `{"code":"012345","csr":"x",` + dev + `}`, "session_id", activate},
		{"too large", `{"company_id":"` + strings.Repeat("1", maxBody) + `"}`, "larger than", company},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.dec(tc.body)
			switch {
			case tc.want == "" && e != nil:
				t.Fatalf("refused: %v", e)
			case tc.want != "" && e == nil:
				t.Fatal("accepted")
			case tc.want != "" && (e.Code != wire.ErrBadRequest || !strings.Contains(e.Message, tc.want)):
				t.Fatalf("error %v, want bad_request mentioning %q", e, tc.want)
			}
		})
	}
}

func company(s string) *wire.Error  { _, e := decodeCompanyRequest(strings.NewReader(s)); return e }
func code(s string) *wire.Error     { _, e := decodeCodeRequest(strings.NewReader(s)); return e }
func activate(s string) *wire.Error { _, e := decodeActivateRequest(strings.NewReader(s)); return e }

func TestParseBearer(t *testing.T) {
	for h, want := range map[string]string{
		"Bearer abc-DEF_123": "abc-DEF_123",
		"bearer abc":         "abc",
		"Bearer  abc ":       "abc",
		"Bearer ":            "",
		"Basic YWJj":         "",
		"Bearer a b":         "",
		"Bearer \x00":        "",
		"":                   "",
	} {
		got, ok := parseBearer(h)
		if got != want || ok != (want != "") {
			t.Errorf("parseBearer(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
}

// The fuzz targets: any body gets either a request that passes every
// check or a bad_request, never a panic.
func fuzzSeeds(f *testing.F) {
	dev := `"device":{"serial":"BN65-000042","model":"BN6500","firmware":"1.2.0"}`
	for _, s := range []string{
		`{"company_id":"482913",` + dev + `}`,
		`{"company_id":"482913","resend":true,"session_id":"abc",` + dev + `}`,
		`{"session_id":"abc","code":"012345","csr":"-----BEGIN CERTIFICATE REQUEST-----\nMA==\n-----END CERTIFICATE REQUEST-----\n",` + dev + `}`,
		``, `{}`, `[]`, `null`, `{"company_id":null}`, `{"device":{"serial":"\u0000"}}`, `{"a":1}{"b":2}`,
	} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeCompanyRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := decodeCompanyRequest(strings.NewReader(string(b)))
		if e != nil {
			if e.Code != wire.ErrBadRequest {
				t.Fatalf("code %s", e.Code)
			}
			return
		}
		if checkCompanyID(req.CompanyID) != nil || checkDevice(req.Device) != nil {
			t.Fatalf("accepted an invalid request %+v", req)
		}
	})
}

func FuzzDecodeCodeRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := decodeCodeRequest(strings.NewReader(string(b)))
		if e != nil {
			if e.Code != wire.ErrBadRequest {
				t.Fatalf("code %s", e.Code)
			}
			return
		}
		if checkCompanyID(req.CompanyID) != nil || checkDevice(req.Device) != nil ||
			(req.Resend && checkSessionID(req.SessionID) != nil) {
			t.Fatalf("accepted an invalid request %+v", req)
		}
	})
}

func FuzzDecodeActivateRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := decodeActivateRequest(strings.NewReader(string(b)))
		if e != nil {
			if e.Code != wire.ErrBadRequest {
				t.Fatalf("code %s", e.Code)
			}
			return
		}
		if checkCode(req.Code) != nil || checkSessionID(req.SessionID) != nil || checkDevice(req.Device) != nil || req.CSR == "" {
			t.Fatalf("accepted an invalid request %+v", req)
		}
	})
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer x", "Basic x", "", "Bearer ", "BEARER \xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		tok, ok := parseBearer(h)
		if ok && (tok == "" || strings.ContainsAny(tok, " \t\r\n\x00")) {
			t.Fatalf("parseBearer(%q) = %q", h, tok)
		}
	})
}

func FuzzDecodeDevClockRequest(f *testing.F) {
	for _, s := range []string{`{"advance_seconds":600}`, `{"advance_seconds":-1}`, `{"advance_seconds":1e99}`, ``, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := decodeDevClockRequest(strings.NewReader(string(b)))
		if e == nil && (req.AdvanceSeconds < 1 || req.AdvanceSeconds > maxAdvance) {
			t.Fatalf("accepted %+v", req)
		}
	})
}
