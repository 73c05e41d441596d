package onboarding

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"timeclock/wire"
)

// ErrSave marks a failure to store the identity on the clock itself.
var ErrSave = errors.New("onboarding: saving the identity failed")

func errCode(err error) wire.ErrorCode {
	var we *wire.Error
	if errors.As(err, &we) {
		return we.Code
	}
	return ""
}

// reason names a failure for the log; it never holds a secret (the cloud
// client's errors carry no code or passcode).
func reason(err error) string {
	switch {
	case errCode(err) != "":
		return string(errCode(err))
	case errors.Is(err, ErrUntrusted):
		return "cloud not trusted"
	case errors.Is(err, ErrUnreachable):
		return "cloud unreachable"
	case errors.Is(err, ErrBadResponse):
		return "bad answer"
	case errors.Is(err, ErrSave):
		return "save failed"
	}
	return "error"
}

// backOf is where Clear leads from a failed step.
func backOf(step State) State {
	switch step {
	case StateCompanyLookup:
		return StateCompanyEntry
	case StateActivating:
		return StateCodeEntry
	}
	return StateCompanyConfirm
}

// waitText says a RetryAfter in words that fit a line.
func waitText(sec int) string {
	switch d := time.Duration(sec) * time.Second; {
	case sec <= 0:
		return "a few minutes"
	case d < 2*time.Minute:
		return strconv.Itoa(sec) + " seconds"
	default:
		return strconv.Itoa(int((d+time.Minute-1)/time.Minute)) + " minutes"
	}
}

// problemFor is the screen for a failure of a cloud step: the cause in the
// title, what to do in the text, and where Enter and Clear go.
func (mc Machine) problemFor(m Model, err error, step State) Problem {
	retry := Problem{Enter: step, Back: backOf(step), Keys: "Enter=retry"}
	with := func(p Problem, title string, text ...string) Problem {
		p.Title, p.Text = title, text
		return p
	}
	newCode := Problem{Enter: StateCodeRequest, Back: StateCompanyConfirm, Keys: "Enter=resend"}
	var we *wire.Error
	if errors.As(err, &we) {
		switch we.Code {
		case wire.ErrUnknownCompany:
			return with(Problem{Enter: StateCompanyEntry, Back: StateCompanyEntry, Keys: "Enter=edit"}, "Unknown company",
				"No company has the ID "+m.CompanyID+".",
				"Check the company ID with your administrator.")
		case wire.ErrBadRequest:
			if step == StateCompanyLookup {
				// The cloud checks the ID's form (its length); its message
				// says what it wants.
				return with(Problem{Enter: StateCompanyEntry, Back: StateCompanyEntry, Keys: "Enter=edit"}, "Invalid company ID",
					"The cloud refused the ID "+m.CompanyID+": "+printable(we.Message, 80)+".",
					"Check the company ID with your administrator.")
			}
		case wire.ErrNoAdmins:
			return with(Problem{Enter: StateCodeRequest, Back: StateCompanyConfirm, Keys: "Enter=retry"}, "No admin email",
				"The code goes only to administrator emails, and "+m.Company.Name+" has none on file.",
				"Add an administrator email to the account, then retry.")
		case wire.ErrRateLimited, wire.ErrResendTooSoon:
			return with(retry, "Too many tries",
				"The cloud limits tries to protect the account.",
				"Wait "+waitText(we.RetryAfter)+", then try again.")
		case wire.ErrNoSession:
			return with(newCode, "Setup expired",
				"This setup session is over.",
				"Press Enter for a new code.")
		case wire.ErrCodeExpired:
			return with(newCode, "Code expired",
				"The code is valid for a limited time only.",
				"Press Enter for a new code.")
		case wire.ErrCodeBurned:
			return with(newCode, "Code blocked",
				"Too many wrong codes: this code no longer works.",
				"Press Enter for a new code.")
		case wire.ErrBadCSR:
			return with(retry, "Activation failed",
				"The cloud refused the clock's certificate request.",
				"Try again; if it repeats, call support.")
		case wire.ErrDisabled:
			return with(Problem{Enter: StateCompanyConfirm, Back: StateCompanyConfirm, Keys: "Enter=back"}, "Clock disabled",
				"An administrator disabled this clock.",
				"Ask them to enable it again, then retry.")
		}
		return with(retry, "Cloud error",
			fmt.Sprintf("The cloud could not do this (%s).", we.Code),
			"Try again later.")
	}
	switch {
	case errors.Is(err, ErrUntrusted):
		return with(retry, "Cloud not trusted",
			"The cloud's certificate is not from the CA the clock trusts.",
			"Check the cloud CA setting, or ask IT to exempt the cloud from HTTPS inspection.")
	case errors.Is(err, ErrUnreachable):
		return with(retry, "Cloud unreachable",
			"No connection to the cloud.",
			"Check the network cable. "+mc.Ports.AllowPorts())
	case errors.Is(err, ErrBadResponse):
		return with(retry, "Bad cloud answer",
			"The clock could not read the cloud's answer.",
			"A proxy may interfere. Try again.")
	case errors.Is(err, ErrSave):
		return with(retry, "Storage error",
			"The clock could not save its identity.",
			"Try again; if it repeats, call support.")
	}
	return with(retry, "Setup failed", "Something went wrong.", "Try again.")
}

// printable keeps a cloud message fit for a character display: ASCII
// letters, digits and punctuation, at most n characters.
func printable(s string, n int) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		if r >= ' ' && r < 0x7f {
			out = append(out, r)
		}
		if len(out) == n {
			break
		}
	}
	return string(out)
}
