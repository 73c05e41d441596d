package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDecodeBiometricReports(t *testing.T) {
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	good := BiometricReports{Reports: []BiometricReport{
		{Seq: 1, Kind: BiometricConsent, Employee: "E1", Supervisor: "S1", At: at},
		{Seq: 2, Kind: BiometricDeleted, Employee: "E1", At: at, Reason: "removed from the roster", Command: "c-1"},
	}}
	b, _ := json.Marshal(good)
	got, err := DecodeBiometricReports(b)
	if err != nil || len(got.Reports) != 2 || got.Reports[1].Command != "c-1" {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{
		`{"reports": []}`,
		`{"reports": [{"seq": 0, "kind": "consent", "employee": "E1", "supervisor": "S1", "at": "2026-12-02T09:00:00Z"}]}`,
		`{"reports": [{"seq": 1, "kind": "template", "employee": "E1", "at": "2026-12-02T09:00:00Z"}]}`,
		`{"reports": [{"seq": 1, "kind": "consent", "employee": "E1", "at": "2026-12-02T09:00:00Z"}]}`,
		`{"reports": [{"seq": 1, "kind": "deleted", "employee": "", "at": "2026-12-02T09:00:00Z"}]}`,
		`{"reports": [{"seq": 1, "kind": "deleted", "employee": "E1"}]}`,
		`{"reports": [{"seq": 1, "kind": "deleted", "employee": "E1", "at": "2026-12-02T09:00:00Z", "template": "AAAA"}]}`,
		`not json`,
	} {
		if _, err := DecodeBiometricReports([]byte(bad)); !errors.Is(err, ErrPayload) {
			t.Errorf("%s: err %v, want ErrPayload", bad, err)
		}
	}
}

func TestDeleteBiometricsCommand(t *testing.T) {
	if _, err := DecodeCommand([]byte(`{"id": "c1", "type": "delete_biometrics", "employee": "E1", "issued": "2026-12-02T09:00:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	_, err := DecodeCommand([]byte(`{"id": "c1", "type": "delete_biometrics", "issued": "2026-12-02T09:00:00Z"}`))
	if err == nil || !strings.Contains(err.Error(), "employee") {
		t.Fatalf("no employee: %v", err)
	}
}

func FuzzDecodeBiometricReports(f *testing.F) {
	f.Add([]byte(`{"reports": [{"seq": 1, "kind": "consent", "employee": "E1", "supervisor": "S1", "at": "2026-12-02T09:00:00Z"}]}`))
	f.Add([]byte(`{"reports": [{"seq": 2, "kind": "deleted", "employee": "E1", "at": "2026-12-02T09:00:00Z", "reason": "x", "command": "c"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeBiometricReports(b)
		if err != nil {
			return
		}
		again, _ := json.Marshal(r)
		if _, err := DecodeBiometricReports(again); err != nil {
			t.Fatalf("re-decode of %s: %v", again, err)
		}
	})
}
