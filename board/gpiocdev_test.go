package board

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The kernel's ABI values, from include/uapi/linux/gpio.h: printed by a C
// program built against this machine's /usr/include/linux/gpio.h (amd64).
// On arm and arm64 the build itself checks the sizes (gpiocdev.go).
func TestGPIOV2ABI(t *testing.T) {
	var req gpioV2LineRequest
	var cfg gpioV2LineConfig
	var ev gpioV2LineEvent
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"GPIO_V2_GET_LINE_IOCTL", gpioV2GetLineIoctl, 0xC250B407},
		{"sizeof(struct gpio_v2_line_request)", unsafe.Sizeof(req), 592},
		{"sizeof(struct gpio_v2_line_config)", unsafe.Sizeof(cfg), 272},
		{"sizeof(struct gpio_v2_line_config_attribute)", unsafe.Sizeof(gpioV2LineConfigAttribute{}), 24},
		{"sizeof(struct gpio_v2_line_attribute)", unsafe.Sizeof(gpioV2LineAttribute{}), 16},
		{"sizeof(struct gpio_v2_line_event)", unsafe.Sizeof(ev), 48},
		{"offsetof(gpio_v2_line_request, consumer)", unsafe.Offsetof(req.Consumer), 256},
		{"offsetof(gpio_v2_line_request, config)", unsafe.Offsetof(req.Config), 288},
		{"offsetof(gpio_v2_line_request, num_lines)", unsafe.Offsetof(req.NumLines), 560},
		{"offsetof(gpio_v2_line_request, event_buffer_size)", unsafe.Offsetof(req.EventBufferSize), 564},
		{"offsetof(gpio_v2_line_request, fd)", unsafe.Offsetof(req.Fd), 588},
		{"offsetof(gpio_v2_line_config, num_attrs)", unsafe.Offsetof(cfg.NumAttrs), 8},
		{"offsetof(gpio_v2_line_config, attrs)", unsafe.Offsetof(cfg.Attrs), 32},
		{"offsetof(gpio_v2_line_event, id)", unsafe.Offsetof(ev.ID), 8},
		{"offsetof(gpio_v2_line_event, offset)", unsafe.Offsetof(ev.Offset), 12},
		{"offsetof(gpio_v2_line_event, seqno)", unsafe.Offsetof(ev.Seqno), 16},
		{"offsetof(gpio_v2_line_event, line_seqno)", unsafe.Offsetof(ev.LineSeqno), 20},
		{"GPIO_V2_LINE_FLAG_INPUT", gpioV2LineFlagInput, 0x4},
		{"GPIO_V2_LINE_FLAG_EDGE_FALLING", gpioV2LineFlagEdgeFalling, 0x20},
		{"GPIO_V2_LINE_FLAG_BIAS_PULL_UP", gpioV2LineFlagBiasPullUp, 0x100},
		{"GPIO_V2_LINE_EVENT_RISING_EDGE", gpioV2LineEventRisingEdge, 1},
		{"GPIO_V2_LINE_EVENT_FALLING_EDGE", gpioV2LineEventFallingEdge, 2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// A path that is no GPIO chip fails with an error naming it.
func TestRequestEdgesNeedsAChip(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gpiochip9")
	if _, err := requestEdges(missing, "timeclock", 256, 17, 27); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("requestEdges(%s) = %v, want not exist", missing, err)
	}
	// ENOTTY from a kernel; qemu's user mode (make test-arm) does not
	// know the ioctl and says ENOSYS without asking the kernel.
	f, err := requestEdges(os.DevNull, "timeclock", 256, 17, 27)
	if !errors.Is(err, unix.ENOTTY) && !errors.Is(err, unix.ENOSYS) || !strings.Contains(err.Error(), os.DevNull) {
		if f != nil {
			f.Close()
		}
		t.Fatalf("requestEdges(%s) = %v, want ENOTTY naming the path", os.DevNull, err)
	}
	if _, err := requestEdges(os.DevNull, "timeclock", 256); err == nil {
		t.Fatal("requested no lines at all")
	}
}
