// Package scripts holds the test of the packaging script: make test builds
// the amd64 packages the way make package does and checks what is in them.
package scripts

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"timeclock/internal/testenv"
)

const testVersion = "1.2.3~test"

// TestPackages runs scripts/package.sh for amd64 and checks both packages:
// their files, conffiles and maintainer scripts, the version the binary
// reports, lintian without errors, and the clock unit's systemd exposure.
func TestPackages(t *testing.T) {
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("packaging runs on the build host")
	}
	if testing.Short() {
		t.Skip("builds two binaries and nfpm")
	}
	testenv.Tool(t, "dpkg-deb")
	lintian := testenv.Tool(t, "lintian")
	dist := t.TempDir()
	cmd := exec.Command("./package.sh")
	cmd.Env = append(os.Environ(), "DIST="+dist, "ARCHES=amd64", "DEB_VERSION="+testVersion, "GO="+filepath.Join(runtime.GOROOT(), "bin", "go"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("package.sh: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name    string
		files   []string
		conf    string
		depends string
	}{
		{"timeclockd", []string{"./usr/bin/timeclockd", "./usr/share/man/man8/timeclockd.8.gz", "./lib/systemd/system/timeclockd.service",
			"./usr/lib/timeclock/reboot-on-exit", "./usr/lib/timeclock/rescue-update", "./lib/systemd/system/timeclockd-rescue.service",
			"./usr/lib/timeclock/retry-agent", "./lib/systemd/system/timeclockd-fault.service",
			"./usr/share/doc/timeclockd/updates.md", "./etc/timeclock/timeclockd.json", "./usr/lib/sysusers.d/timeclockd.conf",
			"./usr/share/doc/timeclockd/operations.md", "./usr/share/doc/timeclockd/copyright",
			"./usr/share/doc/timeclockd/changelog.gz", "./usr/share/lintian/overrides/timeclockd"},
			"/etc/timeclock/timeclockd.json", "Depends: systemd, tzdata"}, // the agent embeds no zone data
		{"timeclock-cloud", []string{"./usr/bin/timeclock-cloud", "./usr/share/man/man8/timeclock-cloud.8.gz", "./lib/systemd/system/timeclock-cloud.service",
			"./etc/default/timeclock-cloud", "./usr/lib/sysusers.d/timeclock-cloud.conf", "./usr/share/doc/timeclock-cloud/operations.md",
			"./usr/share/doc/timeclock-cloud/copyright", "./usr/share/doc/timeclock-cloud/changelog.gz"},
			"/etc/default/timeclock-cloud", "Depends: systemd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			deb := filepath.Join(dist, tc.name+"_"+testVersion+"_amd64.deb")
			list := run(t, "dpkg-deb", "-c", deb)
			for _, f := range tc.files {
				if !regexp.MustCompile(`(?m) ` + regexp.QuoteMeta(f) + `$`).MatchString(list) {
					t.Errorf("%s lacks %s:\n%s", filepath.Base(deb), f, list)
				}
			}
			info := run(t, "dpkg-deb", "-I", deb)
			for _, want := range []string{"Package: " + tc.name, "Version: " + testVersion, "Architecture: amd64", tc.depends, "postinst", "prerm", "postrm", "conffiles"} {
				if !strings.Contains(info, want) {
					t.Errorf("control lacks %q:\n%s", want, info)
				}
			}
			if conf := run(t, "dpkg-deb", "-f", deb, "Package"); strings.TrimSpace(conf) != tc.name {
				t.Errorf("Package field %q", conf)
			}
			x := t.TempDir()
			run(t, "dpkg-deb", "-e", deb, filepath.Join(x, "DEBIAN"))
			if b, _ := os.ReadFile(filepath.Join(x, "DEBIAN", "conffiles")); strings.TrimSpace(string(b)) != tc.conf {
				t.Errorf("conffiles = %q, want %s", b, tc.conf)
			}
			run(t, "dpkg-deb", "-x", deb, x)
			if v := run(t, filepath.Join(x, "usr", "bin", tc.name), "--version"); !strings.HasPrefix(v, tc.name+" "+testVersion+" ") {
				t.Errorf("--version = %q, want the package's version %s", v, testVersion)
			}
			out, _ := exec.Command(lintian, "--tag-display-limit", "0", deb).CombinedOutput()
			var errs []string
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, "E: ") {
					errs = append(errs, l)
				}
			}
			if len(errs) > 0 {
				t.Errorf("lintian errors:\n%s", strings.Join(errs, "\n"))
			}
			t.Logf("lintian:\n%s", out)
		})
	}
}

// TestUnitExposure keeps the units at systemd's "OK" level or better
// (systemd-analyze security, offline: no booted systemd needed).
func TestUnitExposure(t *testing.T) {
	if os.Getenv("TIMECLOCK_QEMU") != "" {
		t.Skip("runs on the build host")
	}
	sa := testenv.Tool(t, "systemd-analyze")
	for _, unit := range []string{"timeclockd.service", "timeclockd-fault.service", "timeclock-cloud.service"} {
		out, _ := exec.Command(sa, "security", "--offline=yes", filepath.Join("..", "packaging", "systemd", unit)).CombinedOutput()
		m := regexp.MustCompile(`Overall exposure level for ` + regexp.QuoteMeta(unit) + `: ([0-9.]+)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no exposure level in:\n%s", unit, out)
		}
		score, _ := strconv.ParseFloat(string(m[1]), 64)
		t.Logf("%s: exposure %.1f", unit, score)
		if score > 3.0 {
			t.Errorf("%s: exposure %.1f, want 3.0 (OK) or better", unit, score)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// reboot-on-exit, the unit's ExecStopPost, reboots only when the agent
// exited with the status it was given, and without blocking on the job.
func TestRebootOnExit(t *testing.T) {
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	fake := "#!/bin/sh\necho \"$@\" >>" + calls + "\n"
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code, status string
		reboot       bool
	}{
		{"exited", "10", true},
		{"exited", "0", false},
		{"exited", "1", false},
		{"killed", "ABRT", false}, // the watchdog's kill: a restart, not a reboot
		{"dumped", "10", false},
	} {
		os.Remove(calls)
		cmd := exec.Command("../packaging/lib/reboot-on-exit", "10")
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "EXIT_CODE=" + tc.code, "EXIT_STATUS=" + tc.status}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s/%s: %v\n%s", tc.code, tc.status, err, out)
		}
		b, _ := os.ReadFile(calls)
		if got, want := string(b), map[bool]string{true: "--no-block reboot\n", false: ""}[tc.reboot]; got != want {
			t.Errorf("%s/%s: systemctl called with %q, want %q", tc.code, tc.status, got, want)
		}
	}
}

// retry-agent, the out-of-service unit's ExecStopPost, starts the agent
// again (its failure count reset) when the mode's pause is over or the
// mode failed, and starts nothing after a stop on request.
func TestRetryAgent(t *testing.T) {
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	fake := "#!/bin/sh\necho \"$@\" >>" + calls + "\n"
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	const retry = "reset-failed timeclockd.service\n--no-block start timeclockd.service\n"
	for _, tc := range []struct {
		result, code, status string
		want                 string
	}{
		{"success", "exited", "12", retry},    // the pause is over
		{"success", "exited", "0", ""},        // stopped: the agent starting, or a technician
		{"success", "killed", "TERM", ""},     // stopped before the mode took SIGTERM
		{"exit-code", "exited", "1", retry},   // the mode failed
		{"watchdog", "killed", "ABRT", retry}, // the mode hung
		{"signal", "killed", "SEGV", retry},
	} {
		os.Remove(calls)
		cmd := exec.Command("../packaging/lib/retry-agent")
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "SERVICE_RESULT=" + tc.result, "EXIT_CODE=" + tc.code, "EXIT_STATUS=" + tc.status}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s/%s/%s: %v\n%s", tc.result, tc.code, tc.status, err, out)
		}
		b, _ := os.ReadFile(calls)
		if string(b) != tc.want {
			t.Errorf("%s/%s/%s: systemctl called with %q, want %q", tc.result, tc.code, tc.status, b, tc.want)
		}
		if tc.want != "" && !strings.Contains(string(out), "starting timeclockd.service again") {
			t.Errorf("%s/%s/%s: the journal line is missing: %q", tc.result, tc.code, tc.status, out)
		}
	}
}

// rescue-update, the agent's OnFailure= unit: a trial rolled back (the
// binary exits 0) starts the agent again; anything else (no trial: 3; a
// config the binary refuses: 1) starts the out-of-service unit.
func TestRescueUpdate(t *testing.T) {
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	for _, tc := range []struct {
		exit int
		want string
	}{
		{0, "reset-failed timeclockd.service\n--no-block start timeclockd.service\n"},
		{3, "--no-block start timeclockd-fault.service\n"},
		{1, "--no-block start timeclockd-fault.service\n"},
	} {
		os.Remove(calls)
		// setpriv stands in for the binary's decision.
		for name, body := range map[string]string{
			"systemctl": "#!/bin/sh\necho \"$@\" >>" + calls + "\n",
			"setpriv":   fmt.Sprintf("#!/bin/sh\nexit %d\n", tc.exit),
		} {
			if err := os.WriteFile(filepath.Join(bin, name), []byte(body), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("../packaging/lib/rescue-update")
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("binary exit %d: %v\n%s", tc.exit, err, out)
		}
		b, _ := os.ReadFile(calls)
		if string(b) != tc.want {
			t.Errorf("binary exit %d: systemctl called with %q, want %q", tc.exit, b, tc.want)
		}
	}
}

// The maintainer scripts are plain POSIX sh.
func TestMaintainerScriptsParse(t *testing.T) {
	scripts, _ := filepath.Glob("../packaging/deb/*/*")
	if len(scripts) < 6 {
		t.Fatalf("maintainer scripts: %v", scripts)
	}
	for _, s := range append(scripts, "../packaging/lib/reboot-on-exit", "../packaging/lib/rescue-update", "../packaging/lib/retry-agent") {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", s, err, out)
		}
	}
}

// The sysusers.d files make the users and every group the units name, on a
// system that has none of them but dialout.
func TestSysusers(t *testing.T) {
	sysusers := testenv.Tool(t, "systemd-sysusers")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	for f, body := range map[string]string{"passwd": "root:x:0:0::/root:/bin/sh\n", "group": "root:x:0:\ndialout:x:20:\n", "shadow": "", "gshadow": ""} {
		os.WriteFile(filepath.Join(root, "etc", f), []byte(body), 0o600)
	}
	abs, _ := filepath.Abs("../packaging/sysusers")
	run(t, sysusers, "--root="+root, filepath.Join(abs, "timeclockd.conf"), filepath.Join(abs, "timeclock-cloud.conf"))
	passwd, _ := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	group, _ := os.ReadFile(filepath.Join(root, "etc", "group"))
	for _, u := range []string{"timeclock:", "timeclock-cloud:"} {
		if !strings.Contains(string(passwd), "\n"+u) {
			t.Errorf("no user %s in\n%s", u, passwd)
		}
	}
	unit, _ := os.ReadFile("../packaging/systemd/timeclockd.service")
	m := regexp.MustCompile(`(?m)^SupplementaryGroups=(.*)$`).FindSubmatch(unit)
	if m == nil {
		t.Fatal("timeclockd.service names no SupplementaryGroups")
	}
	for _, g := range append(strings.Fields(string(m[1])), "timeclock", "timeclock-cloud") {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(g) + `:`).Match(group) {
			t.Errorf("no group %s in\n%s", g, group)
		}
	}
}
