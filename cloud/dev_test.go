package cloud

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"timeclock/cloud/roster"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
)

func TestSeedDevIsStable(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	db, err := boltstore.Open(filepath.Join(dir, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := seedDev(ctx, db, dir, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.CompanyID) != 6 || first.CompanyID[0] == '0' || len(first.AdminToken) < 30 {
		t.Fatalf("seed %+v", first)
	}
	again, err := seedDev(ctx, db, dir, "999999", now)
	if err != nil || again != first {
		t.Fatalf("second seed %+v, %v; want %+v", again, err, first)
	}
	db.View(ctx, func(tx store.Tx) error {
		users, _ := tx.Users(first.CompanyID)
		admins := 0
		for _, u := range users {
			if u.Administrator {
				admins++
			}
		}
		if len(users) != 2 || admins != 1 {
			t.Errorf("demo users %+v: want one administrator and one other", users)
		}
		if tk, err := tx.AdminToken(store.TokenHash(first.AdminToken)); err != nil || tk.CompanyID != first.CompanyID {
			t.Errorf("admin token: %+v %v", tk, err)
		}
		return nil
	})
	db.Close()
	if st, _ := os.Stat(filepath.Join(dir, DevFile)); st.Mode().Perm() != 0o600 {
		t.Errorf("%s mode %v", DevFile, st.Mode())
	}

	// A store removed while dev.json stayed is seeded again with the same ID.
	os.Remove(filepath.Join(dir, StoreFile))
	db, _ = boltstore.Open(filepath.Join(dir, StoreFile))
	defer db.Close()
	if _, err := seedDev(ctx, db, dir, "", now); err != nil {
		t.Fatal(err)
	}
	db.View(ctx, func(tx store.Tx) error {
		if _, err := tx.Company(first.CompanyID); err != nil {
			t.Errorf("company not re-seeded: %v", err)
		}
		return nil
	})

	os.WriteFile(filepath.Join(dir, DevFile), []byte("{"), 0o600)
	if _, err := seedDev(ctx, db, dir, "", now); err == nil {
		t.Fatal("a damaged dev.json was accepted")
	}
}

func TestSeedDevWantedID(t *testing.T) {
	dir := t.TempDir()
	db, _ := boltstore.Open(filepath.Join(dir, StoreFile))
	defer db.Close()
	ds, err := seedDev(context.Background(), db, dir, "4242", time.Now())
	if err != nil || ds.CompanyID != "4242" {
		t.Fatalf("%+v %v", ds, err)
	}
}

func TestOffsetClockOnlyMovesForward(t *testing.T) {
	c := &offsetClock{}
	before := c.Now()
	after := c.Advance(10 * time.Minute)
	if d := after.Sub(before); d < 10*time.Minute || d > 11*time.Minute {
		t.Fatalf("advanced by %v", d)
	}
	if c.Now().Before(after) {
		t.Fatal("clock went back")
	}
}

// The cloud's demo roster is scripts/demo-roster.json: same IDs, names,
// badges, PINs, departments, active flags and supervisors.
func TestDemoRosterIsTheScriptsRoster(t *testing.T) {
	b, err := os.ReadFile("../scripts/demo-roster.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Employees []struct {
			ID, Name, PIN string
			Badges        []string
			Departments   []string
			Active        *bool
			Supervisor    bool
		}
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	got := demoRoster()
	if len(got) != len(file.Employees) {
		t.Fatalf("%d employees, the file has %d", len(got), len(file.Employees))
	}
	for i, f := range file.Employees {
		g := got[i]
		active := f.Active == nil || *f.Active
		gActive := g.Active == nil || *g.Active
		if g.ID != f.ID || g.Name != f.Name || *g.PIN != f.PIN || !slices.Equal(g.Badges, f.Badges) ||
			!slices.Equal(g.Departments, f.Departments) || gActive != active || g.Supervisor != f.Supervisor {
			t.Errorf("employee %d: cloud %+v, file %+v", i, g, f)
		}
	}
	dir := t.TempDir()
	db, _ := boltstore.Open(filepath.Join(dir, StoreFile))
	defer db.Close()
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for range 2 {
		if err := seedDemoRoster(ctx, db, "123456", now); err != nil {
			t.Fatal(err)
		}
	}
	v, err := roster.Get(ctx, db, "123456")
	if err != nil || v.Version != 1 || len(v.Employees) != 5 {
		t.Fatalf("seeded roster: %+v %v", v, err)
	}
}
