package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 3, 15, 4, 0, 0, time.UTC)

func TestSMSProvider(t *testing.T) {
	var got struct {
		req        SMSRequest
		auth, ctyp string
	}
	fail := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.auth, got.ctyp = r.Header.Get("Authorization"), r.Header.Get("Content-Type")
		json.NewDecoder(r.Body).Decode(&got.req)
		if fail {
			http.Error(w, "{\"error\":\"number\nblocked\"}", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()

	for _, tc := range []struct {
		name, user, wantAuth string
	}{
		{"bearer", "", "Bearer s3cret-token"},
		{"basic", "AC123", "Basic QUMxMjM6czNjcmV0LXRva2Vu"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := NewSMSProvider(SMSConfig{URL: srv.URL + "/send", User: tc.user, Token: "s3cret-token", From: "+14155550100"})
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Send(context.Background(), SMS{To: "+14155552671", Body: "hello", Date: t0}); err != nil {
				t.Fatal(err)
			}
			want := SMSRequest{To: "+14155552671", From: "+14155550100", Body: "hello"}
			if got.req != want || got.auth != tc.wantAuth || got.ctyp != "application/json" {
				t.Errorf("provider got %+v auth %q type %q", got.req, got.auth, got.ctyp)
			}
		})
	}

	t.Run("provider refuses", func(t *testing.T) {
		fail = true
		h, _ := NewSMSProvider(SMSConfig{URL: srv.URL, Token: "s3cret-token"})
		err := h.Send(context.Background(), SMS{To: "+14155552671", Body: "x"})
		if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "number blocked") {
			t.Fatalf("err %v", err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Fatal("the token is in the error")
		}
	})
	t.Run("not a US number never leaves", func(t *testing.T) {
		h, _ := NewSMSProvider(SMSConfig{URL: srv.URL, Token: "t"})
		got.req = SMSRequest{}
		if err := h.Send(context.Background(), SMS{To: "+442071838750"}); err == nil || got.req.To != "" {
			t.Fatalf("err %v, provider got %+v", err, got.req)
		}
	})
}

func TestSMSConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  SMSConfig
		want string
	}{
		{SMSConfig{URL: "https://sms.example/v1/messages", Token: "t"}, ""},
		{SMSConfig{URL: "http://127.0.0.1:9000/", Token: "t"}, ""},
		{SMSConfig{URL: "http://sms.example/", Token: "t"}, "plain http"},
		{SMSConfig{URL: "https://user:pw@sms.example/", Token: "t"}, "credentials"},
		{SMSConfig{URL: "sms.example", Token: "t"}, "want an http(s) URL"},
		{SMSConfig{URL: "https://sms.example/"}, "sms-token-file"},
	} {
		err := tc.cfg.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.cfg.URL, err, tc.want)
		}
	}
}

func TestSMSConfigNeverPrintsToken(t *testing.T) {
	c := SMSConfig{URL: "https://x", Token: "s3cret-token"}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("printed %s", s)
		}
	}
}

func TestSMSOutbox(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sms-outbox")
	var out bytes.Buffer
	o, err := NewSMSOutbox(dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Send(context.Background(), SMS{To: "+14155552671", Body: "the code", Date: t0}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.txt"))
	if len(files) != 1 || !strings.Contains(files[0], "14155552671") {
		t.Fatalf("files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	if !strings.HasPrefix(string(b), "To: +14155552671\n") || !strings.HasSuffix(string(b), "\n\nthe code\n") {
		t.Errorf("file:\n%s", b)
	}
	if want := "----- DEV SMS to +14155552671 (saved as " + files[0] + ") -----\nthe code\n----- end of DEV SMS -----\n"; out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestSMSTeeWithoutTextersIsNotConfigured(t *testing.T) {
	if err := (SMSTee{}).Send(context.Background(), SMS{To: "+14155552671"}); err != ErrSMSNotConfigured {
		t.Fatalf("err %v", err)
	}
}

func TestSetupCodeText(t *testing.T) {
	chi, _ := time.LoadLocation("America/Chicago")
	changes := time.Date(2026, 3, 10, 0, 0, 0, 0, chi)
	got := SetupCodeText("Demo Company", "K7PM-3XQ2", changes)
	want := "Demo Company: your company setup code for the Timeclock mobile app is K7PM-3XQ2. It works until Tue Mar 10, 12:00 AM CDT, when it changes."
	if got != want {
		t.Errorf("text\n%s\nwant\n%s", got, want)
	}
	long := SetupCodeText(strings.Repeat("Ü", 200), "K7PM-3XQ2", changes)
	if !strings.Contains(long, "K7PM-3XQ2") || len([]rune(long)) > 160+maxCompany {
		t.Errorf("long name: %q", long)
	}
}
