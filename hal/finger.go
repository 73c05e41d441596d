package hal

import (
	"context"
	"errors"
	"time"
)

// FingerEvent is one finger placed on a fingerprint sensor and searched in
// the sensor's own template library. It never carries the template or the
// image: those stay on the sensor.
type FingerEvent struct {
	// Matched says the sensor found the finger in its library; Slot is
	// then the template's number on the sensor.
	Matched bool
	Slot    int
	// Score is the sensor's match confidence (higher is surer; R307-class
	// sensors report roughly 50-300 for a genuine match); 0 when not matched.
	Score int
	Time  time.Time
}

// FingerReader delivers fingers placed on a sensor that matches them itself.
type FingerReader interface {
	Device
	// ReadFinger blocks until a finger is placed and searched, ctx is done,
	// or the device is halted (ErrHalted). An unknown finger is an event
	// with Matched false, not an error. A sensor that stops answering
	// (unplugged, garbled replies) is an error wrapping ErrSensor; the
	// caller reads on and the driver reconnects.
	ReadFinger(ctx context.Context) (FingerEvent, error)
}

// ErrSensor is wrapped by the errors of a fingerprint sensor that did not
// answer properly: a timeout, a bad checksum, a port that vanished. Such an
// error is never a match.
var ErrSensor = errors.New("fingerprint sensor failed")

// ErrNotSameFinger is returned by an enrollment scan whose finger is not the
// one of the earlier scans.
var ErrNotSameFinger = errors.New("not the same finger")

// ErrNoFinger is returned by a scan that ends with no usable finger image
// (smudged, too few features): the person places the finger again.
var ErrNoFinger = errors.New("no usable finger image")

// FingerEnroller is the optional ability of a FingerReader to enroll and
// delete templates. Templates are made and kept on the sensor; nothing here
// hands one out.
type FingerEnroller interface {
	// StartEnroll takes the sensor for one enrollment: ReadFinger waits
	// until the enrollment is Done.
	StartEnroll() FingerEnrollment
	// DeleteFinger deletes the template in slot (no template there is not
	// an error).
	DeleteFinger(ctx context.Context, slot int) error
	// FingerSlots is how many templates the sensor holds at most.
	FingerSlots(ctx context.Context) (int, error)
	// FingerCount is how many templates the sensor holds now.
	FingerCount(ctx context.Context) (int, error)
	// DeleteAllFingers empties the sensor's template library.
	DeleteAllFingers(ctx context.Context) error
}

// FingerEnrollment is one enrollment in progress: three scans of one
// finger, then the template stored in a slot.
type FingerEnrollment interface {
	// Scan waits for a finger and takes scan n (1, 2 or 3). Scan 1 also
	// searches the library: the event says whether (and where) the finger
	// is already enrolled. Scan 2 makes the template from scans 1 and 2;
	// scan 3 checks the finger against it. A different finger is
	// ErrNotSameFinger; a bad image ErrNoFinger.
	Scan(ctx context.Context, n int) (FingerEvent, error)
	// Lifted waits until no finger is on the sensor.
	Lifted(ctx context.Context) error
	// Store keeps the template made by scans 1-3 in slot.
	Store(ctx context.Context, slot int) error
	// Done gives the sensor back to ReadFinger.
	Done()
}
