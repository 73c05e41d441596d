package booted

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"timeclock/internal/tcprelay"
	"timeclock/internal/vmtest"
	"timeclock/release"
)

// cloudUpdates: the whole update through the reference cloud on the host,
// with the package's unit and real systemd: the clock onboarded, releases
// signed, uploaded and offered through the admin API, downloaded by the
// clock over HTTPS (the guest's 443, through a relay on the host that can
// refuse connections), checked, installed into the other slot and run:
//   - 9.1 commits: the cloud shows it committed, the service runs slot b;
//   - 9.2 exits at start: rolled back to 9.1, the cloud shows the reason;
//   - 9.3 runs but cannot reach the cloud's API once its download is done,
//     so it cannot commit: punches taken on its trial, then the rollback at
//     the trial's deadline; the punches reach the cloud exactly once.
func cloudUpdates(t *testing.T, m *vmtest.Machine, cc *cloudClock, relay *tcprelay.Relay) {
	onboardWith(t, m, cc, map[string]any{"update_keys": []string{release.DevPublicKey()},
		"update_poll": "1s", "update_retry": "1s", "update_trial": "60s"}, false)
	c, device := cc.c, cc.device
	work := t.TempDir()
	offer := func(art []byte) string {
		t.Helper()
		id, code, body := c.UploadRelease(t, art)
		if code != 201 {
			t.Fatalf("upload: %d %s", code, body)
		}
		if code := c.API(t, "POST", "/api/v1/devices/"+device+"/update", map[string]string{"release": id}, &map[string]any{}); code != 200 {
			t.Fatalf("offer %s: %d", id, code)
		}
		return id
	}
	waitState := func(id, state string) map[string]any {
		t.Helper()
		var last map[string]any
		waitGuest(t, 5*time.Minute, func() bool {
			last = c.DeviceUpdate(device)
			return last != nil && last["release"] == id && last["state"] == state
		}, "the cloud never showed %s %s for the clock; last %v", id, state, &last)
		return last
	}
	// version is what the service's main process says with --version; ok
	// is false between processes (no main PID) or on a guest error.
	version := func() (string, bool) {
		out, code, err := m.Exec(guestTimeout, "/proc/$(systemctl show -p MainPID --value timeclockd)/exe --version")
		return strings.TrimSpace(out), err == nil && code == 0
	}
	running := func() string {
		t.Helper()
		v, ok := version()
		if !ok {
			t.Fatalf("the service's version: %q", v)
		}
		return v
	}

	// 9.1: offered, downloaded, installed, trial, committed.
	start := time.Now()
	r1 := offer(signedAgent(t, work, "9.1"))
	waitState(r1, "committed")
	t.Logf("9.1: offer to committed at the cloud in %.1f s", time.Since(start).Seconds())
	if a := activeSlot(t, m); a != "b" {
		t.Fatalf("after 9.1 committed: current -> %s, want b", a)
	}
	if v := running(); !strings.HasPrefix(v, "timeclockd 9.1 ") {
		t.Fatalf("after 9.1 committed the service runs %q", v)
	}

	// 9.2 exits at start: rolled back to 9.1, the reason at the cloud.
	start = time.Now()
	r2 := offer(sign(t, "9.2", []byte("#!/bin/sh\necho 9.2 cannot start >&2\nexit 3\n")))
	got := waitState(r2, "rolled-back")
	if r, _ := got["reason"].(string); !strings.Contains(r, "exited with status 3") {
		t.Fatalf("9.2's rollback: %v", got)
	}
	t.Logf("9.2 (exits at start): offer to the rollback at the cloud in %.1f s; reason %q", time.Since(start).Seconds(), got["reason"])
	if a := activeSlot(t, m); a != "b" {
		t.Fatalf("after 9.2's rollback: current -> %s, want b", a)
	}

	// 9.3 cannot reach the API once downloaded: punches on its trial, the
	// rollback at the deadline, each punch at the cloud once.
	art3 := signedAgent(t, work, "9.3")
	before := len(c.Punches(t, device))
	relay.BlockAfter.Store(int64(len(art3)))
	r3 := offer(art3)
	waitGuest(t, 5*time.Minute, func() bool { return updateState(t, m)["phase"] == "trial" && activeSlot(t, m) == "a" },
		"9.3 never went on trial: %v", updateState(t, m))
	// The state says trial as soon as it is written, before the service
	// restarts into slot a: wait for systemd's main process to be 9.3, so
	// the sim socket dialled next is 9.3's and not 9.1's on its way out.
	v3 := []string{""} // the last answer, read when the wait fails
	waitGuest(t, 2*time.Minute, func() bool {
		v, ok := version()
		v3[0] = v
		return ok && strings.HasPrefix(v, "timeclockd 9.3 ")
	}, "on trial the service never ran 9.3; last %q", v3)
	cc.sim = dialIdle(t, m)
	if v := cc.sim.OK("status")["version"]; v != "9.3" {
		t.Fatalf("on trial the clock runs %v", v)
	}
	for _, p := range [][2]string{{"10002", "Grace Hopper"}, {"10003", "Alan Turing"}, {"10004", "Katherine Johnson"}} {
		cc.swipe(t, p[0], p[1])
	}
	if ph := updateState(t, m)["phase"]; ph != "trial" {
		t.Fatalf("the punches were not taken on trial: phase %v", ph)
	}
	waitGuest(t, 5*time.Minute, func() bool { return updateState(t, m)["phase"] == "rolled-back" }, "9.3 was never rolled back")
	relay.Blocked.Store(false)
	relay.BlockAfter.Store(0)
	got = waitState(r3, "rolled-back")
	if r, _ := got["reason"].(string); !strings.Contains(r, "did not commit within") {
		t.Fatalf("9.3's rollback reason %q", r)
	}
	waitGuest(t, 3*time.Minute, func() bool { return len(c.Punches(t, device)) >= before+3 }, "the trial's punches never reached the cloud")
	seen := map[string]int{}
	ps := c.Punches(t, device)
	for _, p := range ps {
		if seen[p.ID]++; seen[p.ID] > 1 {
			t.Errorf("punch %s stored twice", p.ID)
		}
	}
	if len(ps) != before+3 {
		t.Errorf("%d punches at the cloud, want %d", len(ps), before+3)
	}
	if v := running(); !strings.HasPrefix(v, "timeclockd 9.1 ") {
		t.Errorf("after 9.3's rollback the service runs %q", v)
	}
	t.Logf("9.3 (cannot commit): rolled back, %q; its 3 trial punches at the cloud once each", got["reason"])
}

// signedAgent builds the agent for the guest at version v and signs it.
func signedAgent(t *testing.T, dir, v string) []byte {
	t.Helper()
	out := filepath.Join(dir, "timeclockd-"+v)
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-ldflags", "-s -w -X main.version="+v, "-o", out, "timeclock/cmd/timeclockd")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", v, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return sign(t, v, b)
}

func sign(t *testing.T, v string, payload []byte) []byte {
	t.Helper()
	art, err := release.Sign(release.Manifest{Version: v, Arch: "linux/amd64", Models: []string{"sim"}, Notes: "booted tier " + v}, payload, release.DevKey())
	if err != nil {
		t.Fatal(err)
	}
	return art
}
