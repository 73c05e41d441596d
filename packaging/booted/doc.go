// Package booted holds the booted-Linux tier's scenarios (make test-vm):
// the amd64 package installed with dpkg on a Debian 12 virtual machine
// (internal/vmtest), the agent run by systemd as a clock runs it, then
// READY, punches through the sim board's socket, kill -9, a hang caught by
// the watchdog and power cuts. Without $TIMECLOCK_VM_IMAGE the tests skip.
package booted
