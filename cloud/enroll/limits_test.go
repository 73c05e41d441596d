package enroll

import (
	"context"
	"errors"
	"testing"
	"time"

	"timeclock/wire"
)

func wantCode(t *testing.T, err error, code wire.ErrorCode) *wire.Error {
	t.Helper()
	var we *wire.Error
	if !errors.As(err, &we) || we.Code != code {
		t.Fatalf("err %v, want %s", err, code)
	}
	return we
}

// Wrong company IDs are limited per source address and, separately, per
// clock serial: moving to another address or another clock does not reset
// the count.
func TestWrongCompanyLimitPerSourceAndSerial(t *testing.T) {
	f := newFixture(t, &recorder{})
	ctx := context.Background()
	x, y := wire.Device{Serial: "X1", Model: "BN6500"}, wire.Device{Serial: "Y1", Model: "BN6500"}
	for i := 0; i < 5; i++ {
		_, err := f.svc.Company(ctx, "192.0.2.1", wire.CompanyRequest{CompanyID: "111111", Device: x})
		wantCode(t, err, wire.ErrUnknownCompany)
	}
	for _, tc := range []struct {
		source string
		dev    wire.Device
		code   wire.ErrorCode
	}{
		{"192.0.2.1", y, wire.ErrRateLimited}, // same address, other clock
		{"192.0.2.2", x, wire.ErrRateLimited}, // same clock, other address
		{"192.0.2.2", y, ""},                  // neither
	} {
		_, err := f.svc.Company(ctx, tc.source, wire.CompanyRequest{CompanyID: company, Device: tc.dev})
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s %s: %v", tc.source, tc.dev.Serial, err)
			}
			continue
		}
		if we := wantCode(t, err, tc.code); we.RetryAfter < 1 {
			t.Errorf("retry_after %d", we.RetryAfter)
		}
	}
}

func TestCodeMailsAreLimitedPerClock(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, rec)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := f.svc.RequestCode(ctx, "192.0.2.1", wire.CodeRequest{CompanyID: company, Device: dev}); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		f.clk.Advance(61 * time.Second)
	}
	_, err := f.svc.RequestCode(ctx, "192.0.2.9", wire.CodeRequest{CompanyID: company, Device: dev})
	wantCode(t, err, wire.ErrRateLimited)
	if n := len(rec.all()); n != 10 {
		t.Fatalf("%d mails, want 5 requests x 2 administrators", n)
	}
}

func TestResendForAnotherClocksSessionIsRefused(t *testing.T) {
	f := newFixture(t, &recorder{})
	ctx := context.Background()
	resp, err := f.svc.RequestCode(ctx, "192.0.2.1", wire.CodeRequest{CompanyID: company, Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Minute)
	other := wire.Device{Serial: "OTHER-1", Model: "JR2000"}
	_, err = f.svc.RequestCode(ctx, "192.0.2.1", wire.CodeRequest{CompanyID: company, Device: other, Resend: true, SessionID: resp.SessionID})
	wantCode(t, err, wire.ErrNoSession)
	_, err = f.svc.Activate(ctx, "192.0.2.1", wire.ActivateRequest{SessionID: resp.SessionID, Code: "123456", CSR: csr(t), Device: other})
	wantCode(t, err, wire.ErrNoSession)
}
