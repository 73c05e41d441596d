package notify

import (
	"context"
	"errors"
	"time"
)

// SMS is one text message to one US mobile number.
type SMS struct {
	To   PhoneNumber
	Body string
	Date time.Time
}

// Texter sends a text message: an HTTP provider in production, the dev
// outbox in --dev mode.
type Texter interface {
	Send(ctx context.Context, m SMS) error
}

// ErrSMSNotConfigured is returned when the cloud has no way to send SMS.
var ErrSMSNotConfigured = errors.New("SMS is not set up on this cloud (see --sms-url)")

// SMSTee sends through each texter in turn (the HTTP provider and the dev
// outbox together); the errors are joined after all were tried.
type SMSTee []Texter

// Send sends m through every texter.
func (t SMSTee) Send(ctx context.Context, m SMS) error {
	if len(t) == 0 {
		return ErrSMSNotConfigured
	}
	return sendEach(ctx, t, m)
}
