package sms

import (
	"context"
	"fmt"
	"io"
	"time"

	"timeclock/cloud/internal/devoutbox"
)

// Outbox is the dev SMS sender, like the dev mailer: each message becomes a
// .txt file and is printed, labelled DEV SMS, to the cloud's standard
// output. Only --dev mode uses it.
type Outbox struct{ box *devoutbox.Box }

// NewOutbox returns an outbox writing into dir (created 0700) and printing
// to print (nil: files only).
func NewOutbox(dir string, print io.Writer) (*Outbox, error) {
	b, err := devoutbox.New(dir, print, "DEV SMS")
	if err != nil {
		return nil, err
	}
	return &Outbox{box: b}, nil
}

// Send writes m to a new file and prints it.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if _, err := ParseUS(string(m.To)); err != nil {
		return fmt.Errorf("sms outbox: %w", err)
	}
	data := fmt.Sprintf("To: %s\nDate: %s\n\n%s\n", string(m.To), m.Date.Format(time.RFC1123Z), m.Body)
	_, err := o.box.Save(m.Date, string(m.To), string(m.To), "txt", []byte(data), m.Body)
	return err
}
