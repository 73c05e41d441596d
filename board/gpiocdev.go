package board

import (
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Linux GPIO character device's v2 uAPI, as far as board requests
// lines itself: names and values from the kernel's
// include/uapi/linux/gpio.h. golang.org/x/sys/unix (v0.45.0) does not
// define them, and periph's gpioioctl keeps its copies private.

const (
	gpioMaxNameSize       = 32 // GPIO_MAX_NAME_SIZE
	gpioV2LinesMax        = 64 // GPIO_V2_LINES_MAX
	gpioV2LineNumAttrsMax = 10 // GPIO_V2_LINE_NUM_ATTRS_MAX

	gpioV2LineFlagInput       = 1 << 2 // GPIO_V2_LINE_FLAG_INPUT
	gpioV2LineFlagEdgeFalling = 1 << 5 // GPIO_V2_LINE_FLAG_EDGE_FALLING
	gpioV2LineFlagBiasPullUp  = 1 << 8 // GPIO_V2_LINE_FLAG_BIAS_PULL_UP
	// Without GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME (1 << 11) events are
	// stamped on CLOCK_MONOTONIC, which is what is wanted: only
	// differences count, and they must not jump with the wall clock.

	gpioV2LineEventRisingEdge  = 1 // GPIO_V2_LINE_EVENT_RISING_EDGE
	gpioV2LineEventFallingEdge = 2 // GPIO_V2_LINE_EVENT_FALLING_EDGE
)

// gpioV2LineAttribute is struct gpio_v2_line_attribute; Value is the union
// of flags, values and debounce_period_us.
type gpioV2LineAttribute struct {
	ID      uint32
	Padding uint32
	Value   uint64
}

// gpioV2LineConfigAttribute is struct gpio_v2_line_config_attribute.
type gpioV2LineConfigAttribute struct {
	Attr gpioV2LineAttribute
	Mask uint64
}

// gpioV2LineConfig is struct gpio_v2_line_config.
type gpioV2LineConfig struct {
	Flags    uint64
	NumAttrs uint32
	Padding  [5]uint32
	Attrs    [gpioV2LineNumAttrsMax]gpioV2LineConfigAttribute
}

// gpioV2LineRequest is struct gpio_v2_line_request, the argument of
// GPIO_V2_GET_LINE_IOCTL; the kernel returns the request's file in Fd.
type gpioV2LineRequest struct {
	Offsets         [gpioV2LinesMax]uint32
	Consumer        [gpioMaxNameSize]byte
	Config          gpioV2LineConfig
	NumLines        uint32
	EventBufferSize uint32
	Padding         [5]uint32
	Fd              int32
}

// gpioV2LineEvent is struct gpio_v2_line_event, what read(2) on a line
// request returns, whole records only.
type gpioV2LineEvent struct {
	TimestampNs uint64 // when the kernel saw the edge, CLOCK_MONOTONIC unless asked otherwise
	ID          uint32 // gpioV2LineEvent*Edge
	Offset      uint32 // the line's offset on the chip
	Seqno       uint32 // request-wide, from 1; a gap is an overflow of the kernel's queue
	LineSeqno   uint32 // the same, per line
	Padding     [6]uint32
}

// Every struct of the v2 uAPI is laid out without holes and a multiple of
// 8 bytes long, so Go lays it out as C does on arm, arm64 and amd64 alike
// (Go aligns uint64 to 4 bytes on arm; no field here needs more than its
// natural place). These fail the build on any GOARCH where the sizes are
// not the kernel's; board's tests check the offsets.
var (
	_ [unsafe.Sizeof(gpioV2LineRequest{}) - 592]struct{}
	_ [592 - unsafe.Sizeof(gpioV2LineRequest{})]struct{}
	_ [unsafe.Sizeof(gpioV2LineEvent{}) - gpioV2LineEventSize]struct{}
	_ [gpioV2LineEventSize - unsafe.Sizeof(gpioV2LineEvent{})]struct{}
)

// gpioV2LineEventSize is sizeof(struct gpio_v2_line_event).
const gpioV2LineEventSize = 48

// ioctl request numbers as include/uapi/asm-generic/ioctl.h builds them:
// the layout of arm, arm64 and amd64 (not of mips, powerpc, sparc or
// alpha, which board does not run on).
const (
	iocWrite     = 1
	iocRead      = 2
	iocNRShift   = 0
	iocTypeShift = 8
	iocSizeShift = 16
	iocDirShift  = 30
)

// gpioV2GetLineIoctl is GPIO_V2_GET_LINE_IOCTL,
// _IOWR(0xB4, 0x07, struct gpio_v2_line_request): 0xC250B407.
const gpioV2GetLineIoctl = (iocRead|iocWrite)<<iocDirShift |
	unsafe.Sizeof(gpioV2LineRequest{})<<iocSizeShift |
	0xB4<<iocTypeShift |
	0x07<<iocNRShift

// requestEdges requests lines of a GPIO chip as inputs with pull-ups and
// falling-edge detection, in one request whose kernel queue holds buffer
// events of all of them, numbered in one sequence. It returns the request
// as a non-blocking file on Go's poller, so a read deadline interrupts a
// blocked read.
func requestEdges(chipPath, consumer string, buffer uint32, offsets ...int) (*os.File, error) {
	if len(offsets) == 0 || len(offsets) > gpioV2LinesMax {
		return nil, fmt.Errorf("request %d lines of %s: want 1 to %d", len(offsets), chipPath, gpioV2LinesMax)
	}
	chip, err := unix.Open(chipPath, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", chipPath, err)
	}
	defer unix.Close(chip)
	var req gpioV2LineRequest
	for i, o := range offsets {
		req.Offsets[i] = uint32(o)
	}
	req.NumLines = uint32(len(offsets))
	copy(req.Consumer[:gpioMaxNameSize-1], consumer)
	req.Config.Flags = gpioV2LineFlagInput | gpioV2LineFlagEdgeFalling | gpioV2LineFlagBiasPullUp
	req.EventBufferSize = buffer
	for {
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(chip), gpioV2GetLineIoctl, uintptr(unsafe.Pointer(&req)))
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return nil, fmt.Errorf("GPIO_V2_GET_LINE_IOCTL on %s, lines %v: %w", chipPath, offsets, errno)
		}
		break
	}
	// The kernel made the request's file close-on-exec; reads must not
	// block a thread, so that Go's poller (and a deadline) can wake them.
	if err := unix.SetNonblock(int(req.Fd), true); err != nil {
		unix.Close(int(req.Fd))
		return nil, fmt.Errorf("line request on %s: non-blocking: %w", chipPath, err)
	}
	f := os.NewFile(uintptr(req.Fd), fmt.Sprintf("%s%v", chipPath, offsets))
	// A file the poller could not take has no deadlines, and Halt could
	// not interrupt its reads.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		return nil, errors.Join(fmt.Errorf("line request on %s: not pollable: %w", chipPath, err), f.Close())
	}
	return f, nil
}
