package update_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"timeclock/agent/update"
	"timeclock/internal/await"
	"timeclock/internal/daemontest"
	"timeclock/internal/e2e"
	"timeclock/internal/tcprelay"
	"timeclock/release"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.Cleanup()
	os.Exit(code)
}

// buildVersion builds timeclockd reporting version v.
func buildVersion(t *testing.T, dir, v string) string {
	t.Helper()
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("end-to-end test: runs on the build host, not under qemu")
	}
	out := filepath.Join(dir, "timeclockd-"+v)
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-ldflags", "-s -w -X main.version="+v, "-o", out, "timeclock/cmd/timeclockd")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", v, err, b)
	}
	return out
}

// service runs the clock as timeclockd.service does: ExecStartPre (the
// package's binary: --update-check), the slot's binary through the current
// link, ExecStopPost (--update-stopped, with systemd's SERVICE_RESULT,
// EXIT_CODE and EXIT_STATUS), and a restart after every exit.
type service struct {
	pkg, dir string
	args     []string
	mu       sync.Mutex
	proc     *os.Process
	exits    []string
	stopping bool
	done     chan struct{}
}

func startService(t *testing.T, pkg, dir string, args ...string) *service {
	s := &service{pkg: pkg, dir: dir, args: args, done: make(chan struct{})}
	go s.loop()
	t.Cleanup(func() {
		s.mu.Lock()
		s.stopping = true
		if s.proc != nil {
			s.proc.Signal(syscall.SIGTERM)
		}
		s.mu.Unlock()
		<-s.done
	})
	return s
}

func (s *service) logFile() *os.File {
	f, _ := os.OpenFile(filepath.Join(s.dir, "service.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	return f
}

func (s *service) hook(flag string, env ...string) {
	cmd := exec.Command(s.pkg, append([]string{flag}, s.args...)...)
	cmd.Env = append(os.Environ(), env...)
	f := s.logFile()
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Run()
}

func (s *service) loop() {
	defer close(s.done)
	for {
		s.hook("--update-check")
		cmd := exec.Command(filepath.Join(s.dir, "slots", "current", "timeclockd"), s.args...)
		f := s.logFile()
		cmd.Stdout, cmd.Stderr = f, f
		s.mu.Lock()
		if s.stopping {
			s.mu.Unlock()
			f.Close()
			return
		}
		err := cmd.Start()
		if err == nil {
			s.proc = cmd.Process
		}
		s.mu.Unlock()
		if err == nil {
			cmd.Wait()
		}
		f.Close()
		code, status := "exited", "0"
		if ps := cmd.ProcessState; ps != nil {
			ws := ps.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				code, status = "killed", signalName(ws.Signal())
			} else {
				status = fmt.Sprint(ws.ExitStatus())
			}
		} else {
			status = "203" // systemd's EXEC
		}
		result := "success"
		if status != "0" && status != "11" && status != "TERM" {
			result = "exit-code"
		}
		s.mu.Lock()
		s.exits = append(s.exits, code+" "+status)
		s.proc = nil
		s.mu.Unlock()
		s.hook("--update-stopped", "SERVICE_RESULT="+result, "EXIT_CODE="+code, "EXIT_STATUS="+status)
		// systemd's RestartSec (2 s in the unit), shortened: the delay
		// between restarts a service manager keeps, not a wait for a
		// condition.
		time.Sleep(200 * time.Millisecond)
	}
}

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "TERM"
	case syscall.SIGKILL:
		return "KILL"
	case syscall.SIGABRT:
		return "ABRT"
	}
	return sig.String()
}

func (s *service) exitLog() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.exits
	if len(e) > 20 {
		e = e[len(e)-20:]
	}
	return append([]string(nil), e...)
}

// sim is a connection to whichever process runs now.
func (s *service) sim(t *testing.T) *daemontest.Sim {
	return daemontest.DialSim(t, filepath.Join(s.dir, "sim.sock"), e2e.Wait)
}

func sign(t *testing.T, version, arch, floor string, payload []byte) []byte {
	t.Helper()
	art, err := release.Sign(release.Manifest{Version: version, Arch: arch, Models: []string{"sim"}, Floor: floor, Notes: "test " + version}, payload, release.DevKey())
	if err != nil {
		t.Fatal(err)
	}
	return art
}

func readState(t *testing.T, dir string) update.State {
	s, err := update.LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func active(t *testing.T, dir string) string {
	a, err := update.SlotsIn(dir).Active()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestUpdateEndToEnd: the real cloud and the real clock (run as the unit
// runs it) go v1 -> v2 with a download cut halfway and resumed (commit);
// refuse a tampered artifact, a wrong architecture, a release above the
// clock's floor and a downgrade below its own, changing nothing; roll back
// a v3 that exits at start; and roll back a v4 that cannot commit, with the
// punches taken on its trial reaching the cloud exactly once.
func TestUpdateEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	work := t.TempDir()
	v1, v2, v4 := buildVersion(t, work, "1.0"), buildVersion(t, work, "2.0"), buildVersion(t, work, "4.0")
	c := e2e.StartCloud(t, e2e.CloudOptions{})
	px := tcprelay.Start(t, fmt.Sprintf("127.0.0.1:%d", c.Ports.HTTPS))
	dir := filepath.Join(work, "clock")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := update.SlotsIn(dir).Seed(v1); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{}
	for k, v := range e2e.FastSync {
		cfg[k] = v
	}
	cfg["update_keys"] = []string{release.DevPublicKey()}
	cfg["update_poll"], cfg["update_retry"], cfg["update_trial"] = "300ms", "200ms", "15s"
	cfgFile := filepath.Join(dir, "test-config.json")
	b, _ := json.Marshal(cfg)
	os.WriteFile(cfgFile, b, 0o600)
	ports := c.Ports
	svc := startService(t, v1, dir, "--board", "sim", "--state-dir", dir, "--sim-socket", filepath.Join(dir, "sim.sock"),
		"--log-level", "debug", "--log-file", filepath.Join(dir, "timeclockd.log"), "--config", cfgFile,
		"--cloud", fmt.Sprintf("https://localhost:%d", px.Port()), "--cloud-ca", c.CAFile(), "--cloud-ports", ports.String())
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "timeclockd.log"))
			sb, _ := os.ReadFile(filepath.Join(dir, "service.log"))
			t.Logf("clock log:\n%s\nservice output:\n%s\nexits: %v", tail(string(b), 120), tail(string(sb), 40), svc.exitLog())
		}
	})
	k := &e2e.Clock{Sim: svc.sim(t), Dir: dir}
	device := k.Onboard(t, c)

	waitState := func(rel, state string) map[string]any {
		t.Helper()
		var last map[string]any
		await.True(t, 90*time.Second, func() bool {
			last = c.DeviceUpdate(device)
			return last != nil && last["release"] == rel && last["state"] == state
		}, "cloud never showed %s %s for the clock; last %v", rel, state, last)
		return last
	}
	apiRow := func() map[string]any {
		t.Helper()
		var list struct {
			Approved []map[string]any `json:"approved"`
		}
		if code := c.API(t, "GET", "/api/v1/devices", nil, &list); code != 200 {
			t.Fatalf("devices: %d", code)
		}
		for _, r := range list.Approved {
			if r["id"] == device {
				return r
			}
		}
		t.Fatalf("device %s not listed", device)
		return nil
	}
	offer := func(rel string) time.Time {
		t.Helper()
		if code := c.API(t, "POST", "/api/v1/devices/"+device+"/update", map[string]string{"release": rel}, &map[string]any{}); code != 200 {
			t.Fatalf("offer %s: %d", rel, code)
		}
		return time.Now()
	}
	arch := update.Platform()

	// v1 -> v2, the download cut halfway.
	p2, _ := os.ReadFile(v2)
	art2 := sign(t, "2.0", arch, "1.0", p2)
	r2, code, body := c.UploadRelease(t, art2)
	if code != http.StatusCreated {
		t.Fatalf("upload v2: %d %s", code, body)
	}
	px.CutAt.Store(int64(len(art2) / 2))
	t0 := offer(r2)
	waitState(r2, "committed")
	commitTime := time.Since(t0)
	await.True(t, e2e.Wait, func() bool { return strings.Contains(k.Log(), "update committed") }, "v2 never logged its commit")
	if px.Cuts.Load() != 1 || !strings.Contains(k.Log(), "update download resumes") {
		t.Fatalf("the download was not cut and resumed: cuts %d", px.Cuts.Load())
	}
	if a := active(t, dir); a != "b" {
		t.Fatalf("after v2: current -> %s, want b", a)
	}
	row := apiRow()
	up, _ := row["update"].(map[string]any)
	if row["version"] != "2.0" && up["running"] != "2.0" || up["state"] != "committed" {
		t.Fatalf("devices row after v2: version %v update %v", row["version"], up)
	}
	t.Logf("v1 -> v2 (8 MiB class binary, %d bytes, download cut once and resumed): offer to committed %v", len(art2), commitTime.Round(time.Millisecond))
	logTimes(t, k.Log())

	// Refusals: nothing changes.
	refuse := func(name string, art []byte, tamper bool, want string) {
		t.Helper()
		id, code, body := c.UploadRelease(t, art)
		if code != http.StatusCreated {
			t.Fatalf("%s: upload %d %s", name, code, body)
		}
		if tamper {
			f := filepath.Join(c.Dir, "releases", id+".tcu")
			b, _ := os.ReadFile(f)
			b[len(b)-100] ^= 0xff
			os.WriteFile(f, b, 0o600)
		}
		offer(id)
		got := waitState(id, "refused")
		if r, _ := got["reason"].(string); !strings.Contains(r, want) {
			t.Fatalf("%s: refused with %q, want %q", name, r, want)
		}
		if a := active(t, dir); a != "b" || readState(t, dir).Slot != "b" {
			t.Fatalf("%s: the slots changed: current -> %s", name, a)
		}
		if st := svc.sim(t).OK("status"); st["version"] != "2.0" {
			t.Fatalf("%s: the clock runs %v", name, st["version"])
		}
		t.Logf("%s refused: %s", name, got["reason"])
	}
	refuse("tampered artifact", sign(t, "2.1", arch, "", append(bytes.Clone(p2), 1)), true, "does not match its manifest")
	refuse("wrong architecture", sign(t, "2.2", "linux/arm/v7", "", []byte("arm binary")), false, "wrong architecture")
	refuse("floor above the clock", sign(t, "3.5", arch, "3.0", []byte("needs 3.0")), false, "replaces 3.0 or later")
	refuse("downgrade below the floor", sign(t, "0.9", arch, "", []byte("old")), false, "downgrade below the floor")
	// An unsigned-by-us artifact never gets in.
	bad := bytes.Clone(art2)
	bad[len(bad)-1] ^= 0xff
	if _, code, body := c.UploadRelease(t, bad); code != http.StatusBadRequest || !strings.Contains(body, "does not match") {
		t.Fatalf("tampered upload: %d %s", code, body)
	}

	// v3 exits at start: rolled back to v2, the reason reported.
	r3, _, _ := c.UploadRelease(t, sign(t, "3.0", arch, "1.0", []byte("#!/bin/sh\necho v3 cannot start >&2\nexit 3\n")))
	t3 := offer(r3)
	got := waitState(r3, "rolled-back")
	rollbackTime := time.Since(t3)
	if r, _ := got["reason"].(string); !strings.Contains(r, "exited with status 3") || got["running"] != "2.0" {
		t.Fatalf("v3 rollback: %v", got)
	}
	if a := active(t, dir); a != "b" {
		t.Fatalf("after v3's rollback: current -> %s, want b", a)
	}
	t.Logf("v2 -> v3 (exits at start) -> rolled back to v2: offer to reported %v; reason %q", rollbackTime.Round(time.Millisecond), got["reason"])

	// v4 runs but cannot reach the cloud's API for its commit: rolled back
	// at its deadline; the punches taken on trial arrive exactly once.
	p4, _ := os.ReadFile(v4)
	art4 := sign(t, "4.0", arch, "1.0", p4)
	r4, _, _ := c.UploadRelease(t, art4)
	before := len(c.Punches(t, device))
	px.BlockAfter.Store(int64(len(art4)))
	offer(r4)
	var sim *daemontest.Sim
	await.True(t, 90*time.Second, func() bool {
		c, err := net.Dial("unix", filepath.Join(dir, "sim.sock"))
		if err != nil {
			return false
		}
		s := daemontest.SimConn(t, c)
		st, err := s.Try("status")
		if err == nil && st["version"] == "4.0" {
			sim = s
			return true
		}
		c.Close()
		return false
	}, "v4 never ran")
	trialPunches := time.Now()
	for _, p := range [][2]string{{"10002", "Grace Hopper"}, {"10003", "Alan Turing"}, {"10004", "Katherine Johnson"}} {
		sim.OK("badge %s", p[0])
		sim.WaitScreen(p[1], e2e.Wait)
	}
	if readState(t, dir).Phase != "trial" {
		t.Fatalf("the punches were not taken on trial: %+v", readState(t, dir))
	}
	_ = trialPunches
	await.True(t, 90*time.Second, func() bool { return readState(t, dir).Phase == "rolled-back" }, "v4 was never rolled back")
	px.Blocked.Store(false)
	px.BlockAfter.Store(0)
	got = waitState(r4, "rolled-back")
	if r, _ := got["reason"].(string); !strings.Contains(r, "did not commit within") {
		t.Fatalf("v4 rollback reason %q", r)
	}
	await.True(t, 60*time.Second, func() bool { return len(c.Punches(t, device)) >= before+3 }, "the trial's punches never arrived")
	ps := c.Punches(t, device)
	seen := map[string]int{}
	for _, p := range ps {
		seen[p.ID]++
		if seen[p.ID] > 1 {
			t.Fatalf("punch %s stored twice", p.ID)
		}
	}
	if len(ps) != before+3 {
		t.Fatalf("%d punches, want %d", len(ps), before+3)
	}
	if st := svc.sim(t).OK("status"); st["version"] != "2.0" {
		t.Fatalf("after v4's rollback the clock runs %v", st["version"])
	}
	t.Logf("v4 (no commit) rolled back: %q; exits %v", got["reason"], svc.exitLog())
}

func tail(s string, n int) string {
	l := strings.Split(s, "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// logTimes reports the clock's own measures of the last update.
func logTimes(t *testing.T, log string) {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "update installed") || strings.Contains(l, "update committed") {
			t.Log(strings.TrimSpace(l))
		}
	}
}
