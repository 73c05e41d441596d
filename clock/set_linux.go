package clock

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// System sets the kernel's wall clock (CLOCK_REALTIME) with clock_settime;
// the process needs CAP_SYS_TIME. CLOCK_BOOTTIME, which punch stamps and
// timers count on, does not move.
type System struct{}

// SetTime sets the wall clock to t.
func (System) SetTime(t time.Time) error {
	ts := unix.NsecToTimespec(t.UnixNano())
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &ts); err != nil {
		return fmt.Errorf("clock: clock_settime: %w", err)
	}
	return nil
}

var _ Setter = System{}
