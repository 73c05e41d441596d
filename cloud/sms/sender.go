package sms

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Message is one text message to one US mobile number.
type Message struct {
	To   Number
	Body string
	Date time.Time
}

// Sender sends a text message: an HTTP provider in production, the dev
// outbox in --dev mode.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrNotConfigured is returned when the cloud has no way to send SMS.
var ErrNotConfigured = errors.New("SMS is not set up on this cloud (see --sms-url)")

// Tee sends through each sender in turn (the HTTP provider and the dev
// outbox together); the errors are joined after all were tried.
type Tee []Sender

// Send sends m through every sender.
func (t Tee) Send(ctx context.Context, m Message) error {
	if len(t) == 0 {
		return ErrNotConfigured
	}
	var errs []error
	for _, s := range t {
		if err := s.Send(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Secret is a provider credential that never prints: not with %v, not in
// a slog record.
type Secret string

func (Secret) String() string { return "[redacted]" }

// GoString keeps %#v from printing it either.
func (Secret) GoString() string { return "[redacted]" }

// LogValue keeps it out of slog records.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }
