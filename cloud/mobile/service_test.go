package mobile

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
)

// The secret is made once, on first use, and kept: every caller (and every
// restart) derives the same code, with no code stored.
func TestSetupCodeSecretMadeOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloud.db")
	db, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutCompany(store.Company{ID: "1111", Name: "Acme", Timezone: "America/Denver"})
	})
	clk := clock.NewFake(time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC))
	svc := New(DefaultConfig(), Deps{Store: db, Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var wg sync.WaitGroup
	codes := make([]Code, 8)
	for i := range codes {
		wg.Go(func() {
			c, err := svc.SetupCode(context.Background(), "1111")
			if err != nil {
				t.Error(err)
			}
			codes[i] = c
		})
	}
	wg.Wait()
	for _, c := range codes[1:] {
		if c.Code != codes[0].Code {
			t.Fatalf("concurrent first uses gave different codes: %q %q", c.Code, codes[0].Code)
		}
	}
	if len(codes[0].Code) != SetupCodeLength+1 || codes[0].Code[4] != '-' {
		t.Errorf("display form %q", codes[0].Code)
	}
	den, _ := time.LoadLocation("America/Denver")
	if want := time.Date(2026, 3, 10, 0, 0, 0, 0, den); !codes[0].Changes.Equal(want) {
		t.Errorf("changes %v, want %v", codes[0].Changes, want)
	}
	db.Close()
	db, err = boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc = New(DefaultConfig(), Deps{Store: db, Clock: clk, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if c, err := svc.SetupCode(context.Background(), "1111"); err != nil || c.Code != codes[0].Code {
		t.Fatalf("after a restart: %q, %v", c.Code, err)
	}
	if _, err := svc.SetupCode(context.Background(), "9999"); err == nil {
		t.Fatal("a code for a company that does not exist")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.WrongCodes.Burst = 0
	if err := c.Validate(); err == nil {
		t.Fatal("a zero burst passed")
	}
}
