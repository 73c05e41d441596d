package enroll

import (
	"bytes"
	"fmt"
	"net/mail"
	"text/template"
	"time"

	"timeclock/cloud/notify"
	"timeclock/cloud/store"
)

// The mails' wording follows the help article on authentication codes: what
// the code is for, that it goes only to administrators, which clock asks,
// and when the code stops working.
var codeTmpl = template.Must(template.New("code").Parse(`Hello {{.Name}},

A timeclock is being onboarded to your company account {{.Company}}
(company ID {{.CompanyID}}). For account security, it is added only after
this authentication code is entered on the timeclock:

    {{.Code}}

The code expires at {{.Expires}}
({{.TTL}} minutes after it was sent). It works once; after {{.Tries}} wrong
tries it stops working and the installer must ask for a new code on the
timeclock.

Timeclock:   {{.Model}}, serial number {{.Serial}}
Requested:   {{.Sent}} from network address {{.Source}}

This email goes only to the users with an administrator profile on your
account. If nobody is setting up a timeclock for you, do not pass the code
on: without it, no timeclock is added.
`))

var activatedTmpl = template.Must(template.New("activated").Parse(`Hello {{.Name}},

The timeclock {{.Model}}, serial number {{.Serial}}, was added to your
company account {{.Company}} at {{.When}}.
It is on your approved devices as "{{.Nickname}}" (ID {{.DeviceID}}).

Technician passcode for this timeclock's serial console:

    {{.Passcode}}

This email is the only place the passcode is shown: the cloud keeps no
copy and the timeclock keeps only a hash of it. Store it where your
technicians can find it.

If you did not expect this timeclock, disable it on the devices page.
`))

const stamp = "15:04 MST on Mon 2 Jan 2006"

func localIn(tz string, t time.Time) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format(stamp)
}

func to(u store.User) string {
	return (&mail.Address{Name: u.Name, Address: u.Email}).String()
}

func codeMail(cfg Config, c store.Company, u store.User, s store.Session, code string) (notify.Mail, error) {
	var b bytes.Buffer
	err := codeTmpl.Execute(&b, map[string]any{
		"Name": nameOr(u), "Company": c.Name, "CompanyID": c.ID, "Code": code,
		"Expires": localIn(c.Timezone, s.ExpiresAt), "TTL": int(cfg.CodeTTL / time.Minute),
		"Tries": cfg.MaxWrongTries, "Model": s.Model, "Serial": s.Serial,
		"Sent": localIn(c.Timezone, s.SentAt), "Source": s.Source,
	})
	if err != nil {
		return notify.Mail{}, fmt.Errorf("code mail: %w", err)
	}
	return notify.Mail{
		From:    cfg.MailFrom,
		To:      to(u),
		Subject: fmt.Sprintf("Authentication code to add a timeclock to %s", c.Name),
		Body:    b.String(),
		Date:    s.SentAt,
	}, nil
}

func activatedMail(cfg Config, c store.Company, u store.User, d store.Device, passcode string, now time.Time) (notify.Mail, error) {
	var b bytes.Buffer
	err := activatedTmpl.Execute(&b, map[string]any{
		"Name": nameOr(u), "Company": c.Name, "Model": d.Model, "Serial": d.Serial,
		"When": localIn(c.Timezone, now), "Nickname": d.Nickname, "DeviceID": d.ID, "Passcode": passcode,
	})
	if err != nil {
		return notify.Mail{}, fmt.Errorf("activation mail: %w", err)
	}
	return notify.Mail{
		From:    cfg.MailFrom,
		To:      to(u),
		Subject: fmt.Sprintf("Timeclock %s added to %s", d.Nickname, c.Name),
		Body:    b.String(),
		Date:    now,
	}, nil
}

func nameOr(u store.User) string {
	if u.Name != "" {
		return u.Name
	}
	return "administrator"
}
