package clock

import (
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// BootID is the kernel's random ID of this boot. A punch taken on an unset
// clock carries it, so its time can be corrected later in the same boot.
func BootID() (string, error) {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("clock: boot id: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// SinceBoot is CLOCK_BOOTTIME: monotonic, counting suspend, untouched when
// the wall clock is set.
func SinceBoot() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, fmt.Errorf("clock: CLOCK_BOOTTIME: %w", err)
	}
	return time.Duration(ts.Nano()), nil
}
