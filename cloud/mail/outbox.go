package mail

import (
	"context"
	"io"

	"timeclock/cloud/internal/devoutbox"
)

// Outbox is the dev mailer: each message becomes an .eml file and is
// printed, labelled DEV MAIL, to the cloud's standard output so a person
// running the dev cloud can read the code. It deliberately shows what
// production never logs; it is only used in --dev mode.
type Outbox struct{ box *devoutbox.Box }

// NewOutbox returns an outbox writing into dir (created 0700) and printing
// to print (nil: files only).
func NewOutbox(dir string, print io.Writer) (*Outbox, error) {
	b, err := devoutbox.New(dir, print, "DEV MAIL")
	if err != nil {
		return nil, err
	}
	return &Outbox{box: b}, nil
}

// Send writes m to a new .eml file and prints it.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	data, err := m.Bytes()
	if err != nil {
		return err
	}
	_, addr, _ := m.envelope()
	_, err = o.box.Save(m.Date, addr, m.To, "eml", data, "Subject: "+m.Subject+"\n\n"+m.Body)
	return err
}
