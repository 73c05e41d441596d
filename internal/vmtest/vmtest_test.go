package vmtest

import (
	"strings"
	"testing"
	"time"
)

// TestPowerCut checks the harness's promise that killing qemu is a power
// cut for the state disk: what was fsynced is there after the next boot,
// what was only written (in the guest's page cache) is not.
func TestPowerCut(t *testing.T) {
	m := New(t, FromEnv(t), Opts{})
	m.Boot(t)
	if out := m.Run(t, time.Minute, "findmnt -no SOURCE,FSTYPE /var/lib/timeclock; uname -r"); !strings.Contains(out, "ext4") {
		t.Fatalf("state disk not mounted:\n%s", out)
	}
	// The kernel has what the crash and slow-disk tests and the later
	// GPIO/I2C tier stack on.
	out := m.Run(t, time.Minute, `set -e
modprobe -a dm_log_writes dm_snapshot dm_delay dm_flakey gpio_sim i2c_dev
modprobe i2c_stub chip_addr=0x50
dmsetup targets
ls /sys/bus/i2c/devices; ls -d /sys/kernel/config 2>/dev/null || true`)
	for _, want := range []string{"log-writes", "snapshot", "delay", "flakey", "i2c-"} {
		if !strings.Contains(out, want) {
			t.Errorf("the kernel lacks %s:\n%s", want, out)
		}
	}
	// dd conv=fsync writes and fsyncs; the directory is synced too. The
	// second file is never synced: cut well inside ext4's 5 s commit.
	m.Run(t, time.Minute, `set -e
cd /var/lib/timeclock
dd if=/dev/urandom of=synced bs=64k count=4 conv=fsync status=none
sync -f .
sha256sum synced >synced.sum
dd if=/dev/urandom of=cached bs=64k count=4 status=none`)
	sum := m.Run(t, time.Minute, "cd /var/lib/timeclock && sha256sum synced")
	m.PowerCut()
	m.Boot(t)
	out = m.Run(t, time.Minute, "cd /var/lib/timeclock && sha256sum synced; ls")
	if !strings.Contains(out, strings.TrimSpace(sum)) {
		t.Errorf("the fsynced file did not survive the cut: before %q, after:\n%s", sum, out)
	}
	if strings.Contains(out, "cached") {
		t.Logf("the unsynced file survived the cut (ext4 committed it early):\n%s", out)
	}
	m.Shutdown(t)
}

// TestReboot checks that a guest rebooting itself comes back (a reboot the
// clock asks for goes through systemd to the kernel's reset, which ends
// qemu under -no-reboot; WaitReboot powers it on again): a new boot ID, and
// the command socket answers again.
func TestReboot(t *testing.T) {
	m := New(t, FromEnv(t), Opts{})
	m.Boot(t)
	before := m.Run(t, time.Minute, "cat /proc/sys/kernel/random/boot_id")
	mark, start := m.ConsoleMark(), time.Now()
	// The reboot may end the command's connection before its answer.
	m.Exec(time.Minute, "systemctl --no-block reboot")
	m.WaitReboot(t, mark, start)
	if after := m.Run(t, time.Minute, "cat /proc/sys/kernel/random/boot_id"); after == before {
		t.Fatalf("boot ID %s unchanged after the reboot", after)
	}
	m.Shutdown(t)
}
