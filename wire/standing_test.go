package wire

import (
	"strings"
	"testing"
)

// TestDecodeStanding: only a 403 device_disabled says "disabled"; a 200
// says "not disabled"; everything else is an error.
func TestDecodeStanding(t *testing.T) {
	for _, tc := range []struct {
		code     int
		body     string
		disabled bool
		err      string
	}{
		{200, `{"status":"approved"}`, false, ""},
		{200, `{"status":"disabling"}`, false, ""},
		{403, `{"code":"device_disabled","message":"disabled by an administrator"}`, true, ""},
		{200, `{"code":"device_disabled","message":"x"}`, false, ""},
		{403, `{"code":"unauthorized","message":"x"}`, false, "HTTP 403: unauthorized"},
		{403, `device_disabled`, false, "bad payload"},
		{403, ``, false, "bad payload"},
		{401, `{"code":"unauthorized","message":"this certificate is not an enabled clock's"}`, false, "HTTP 401"},
		{500, `<html>device_disabled</html>`, false, "HTTP 500"},
		{404, `{"code":"device_disabled","message":"x"}`, false, "HTTP 404"},
		{403, `{"code":"device_disabled","message":"` + strings.Repeat("x", MaxPayload) + `"}`, false, "at most"},
	} {
		d, err := DecodeStanding(tc.code, []byte(tc.body))
		if d != tc.disabled || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%d %.60s: disabled %v err %v, want %v %q", tc.code, tc.body, d, err, tc.disabled, tc.err)
		}
	}
}

// FuzzDecodeStanding: no input panics, and "disabled" comes only with a
// 403 and no error.
func FuzzDecodeStanding(f *testing.F) {
	f.Add(200, []byte(`{"status":"approved"}`))
	f.Add(403, []byte(`{"code":"device_disabled","message":"m"}`))
	f.Add(401, []byte(`{"code":"unauthorized"}`))
	f.Fuzz(func(t *testing.T, code int, b []byte) {
		d, err := DecodeStanding(code, b)
		if d && (err != nil || code != 403) {
			t.Fatalf("disabled %v with err %v, code %d", d, err, code)
		}
	})
}
