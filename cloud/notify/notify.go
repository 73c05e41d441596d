// Package notify is how the cloud reaches people: mail (the onboarding
// authentication code to a company's administrators) over SMTP, text
// messages (the mobile app's company setup code) through an HTTP SMS
// provider, and in --dev mode the dev outbox that saves and prints both
// instead. A Mail or an SMS goes to one recipient, so administrators never
// see each other's addresses. Credentials are Secrets that never print.
package notify

import (
	"context"
	"errors"
	"log/slog"
)

// Secret is a password or provider token that never prints: not with %v,
// not in a slog record.
type Secret string

func (Secret) String() string { return "[redacted]" }

// GoString keeps %#v from printing it either.
func (Secret) GoString() string { return "[redacted]" }

// LogValue keeps it out of slog records.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// sendEach sends m through every sender in turn and joins the errors after
// all were tried: MailTee and SMSTee.
func sendEach[M any, S interface {
	Send(context.Context, M) error
}](ctx context.Context, senders []S, m M) error {
	var errs []error
	for _, s := range senders {
		if err := s.Send(ctx, m); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
