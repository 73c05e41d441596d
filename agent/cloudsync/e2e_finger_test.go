package cloudsync_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/agent/fingers"
	"timeclock/agent/store"
	"timeclock/internal/await"
	"timeclock/internal/e2e"
)

type biometricClock struct {
	DeviceID   string    `json:"device_id"`
	Enrolled   bool      `json:"enrolled"`
	ConsentAt  time.Time `json:"consent_at"`
	Supervisor string    `json:"supervisor"`
	DeletedAt  time.Time `json:"deleted_at"`
	Reason     string    `json:"deletion_reason"`
}

func biometricsOf(t *testing.T, c *e2e.Cloud, employee string) []biometricClock {
	t.Helper()
	var list struct {
		Employees []struct {
			Employee string           `json:"employee"`
			Clocks   []biometricClock `json:"clocks"`
		} `json:"employees"`
	}
	if st := c.API(t, "GET", "/api/v1/biometrics", nil, &list); st != http.StatusOK {
		t.Fatalf("GET /api/v1/biometrics: %d", st)
	}
	for _, e := range list.Employees {
		if e.Employee == employee {
			return e.Clocks
		}
	}
	return nil
}

// TestFingerprintWithTheCloud: a supervisor of the cloud's roster enrolls
// Grace at the clock; the consent reaches the cloud (no biometric data);
// she punches by finger (method and score at the cloud); an administrator
// deletes her biometric data through the admin API; the clock deletes her
// template and reports it, and her finger is unknown from then on. Neither
// the cloud, nor the clock's log or state file, ever holds the finger.
func TestFingerprintWithTheCloud(t *testing.T) {
	for _, b := range brokers {
		t.Run(b, func(t *testing.T) { fingerprintWithTheCloud(t, b) })
	}
}

func fingerprintWithTheCloud(t *testing.T, broker string) {
	c := startCloud(t, broker)
	k, id := onboarded(t, c)
	k.Wait("Online")
	const finger = "grace-left-index"

	k.Keys("#")
	k.Wait("Supervisor")
	k.Type("1234") // Ada Lovelace, a supervisor on the demo roster
	k.Keys("enter")
	k.Wait("Enroll finger")
	k.Sim.OK("badge 10002")
	k.Wait("consents to a")
	k.Keys("enter")
	for _, screen := range []string{"Place finger", "Again 2/3", "Again 3/3"} {
		k.Wait(screen)
		k.Sim.OK("finger %s", finger)
	}
	k.Wait("Enrolled")

	var bc []biometricClock
	await.True(t, wait, func() bool { bc = biometricsOf(t, c, "E101"); return len(bc) == 1 && bc[0].Enrolled },
		"the consent never reached the cloud: %+v", bc)
	if bc[0].DeviceID != id || bc[0].Supervisor != "E100" || bc[0].ConsentAt.IsZero() {
		t.Errorf("consent at the cloud: %+v", bc[0])
	}

	k.Wait("Badge or PIN")
	k.Sim.OK("finger %s", finger)
	k.Wait("Grace Hopper")
	ps := cloudHas(t, c, id, 1)
	if ps[0].Employee != "E101" || ps[0].Method != "finger" || ps[0].MatchScore <= 0 {
		t.Errorf("finger punch at the cloud: %+v", ps[0])
	}

	var del struct{ Clocks int }
	if st := c.API(t, "POST", "/api/v1/biometrics/E101/delete", nil, &del); st != http.StatusAccepted || del.Clocks != 1 {
		t.Fatalf("delete biometrics: %d %+v", st, del)
	}
	await.True(t, wait, func() bool { bc = biometricsOf(t, c, "E101"); return len(bc) == 1 && !bc[0].DeletedAt.IsZero() },
		"the deletion never reached the cloud: %+v", bc)
	if bc[0].Enrolled || bc[0].Reason != "deleted by the administrator" {
		t.Errorf("deletion at the cloud: %+v", bc[0])
	}
	k.Wait("Badge or PIN")
	k.Sim.OK("finger %s", finger)
	k.Wait("Unknown finger")
	// The cloud acknowledged both records: none waits on the clock.
	await.True(t, wait, func() bool { return strings.Count(k.Log(), "biometric records acknowledged by the cloud") >= 2 },
		"the clock never had its records acknowledged")

	k.Stop(t)
	st, err := store.Open(k.Dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fk, err := fingers.Open(st)
	if err != nil {
		t.Fatal(err)
	}
	reps, err := fk.Reports(10)
	st.Close()
	if err != nil || len(reps) != 0 {
		t.Errorf("records still waiting on the clock: %+v %v", reps, err)
	}
	c.Stop(t)
	for _, f := range []string{filepath.Join(k.Dir, "timeclockd.log"), filepath.Join(k.Dir, "state.db"), filepath.Join(c.Dir, "cloud.log")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(finger)) {
			t.Errorf("%s holds the finger", f)
		}
	}
	if !strings.Contains(k.Log(), "fingerprint template deleted") {
		t.Error("the clock's log does not tell the deletion")
	}
	entries, _ := filepath.Glob(filepath.Join(c.Dir, "*.db"))
	for _, f := range entries {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(finger)) {
			t.Errorf("%s holds the finger", f)
		}
	}
}
