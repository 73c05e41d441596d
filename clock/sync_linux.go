package clock

import "golang.org/x/sys/unix"

// KernelSynced reports whether the kernel considers its clock synchronised
// (an NTP daemon cleared STA_UNSYNC). It reads adjtimex without changing it.
func KernelSynced() (bool, error) {
	var tx unix.Timex // Modes 0: read only
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, err
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0, nil
}
