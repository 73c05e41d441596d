package notify

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// maxCompany keeps a message within two SMS segments whatever the
// company's name.
const maxCompany = 60

// SetupCodeText is the text that sends the company setup code: which
// company, the code, and when it changes (in the company's time zone).
func SetupCodeText(company, code string, changes time.Time) string {
	if utf8.RuneCountInString(company) > maxCompany {
		company = string([]rune(company)[:maxCompany-1]) + "…"
	}
	return fmt.Sprintf("%s: your company setup code for the Timeclock mobile app is %s. It works until %s, when it changes.",
		company, code, changes.Format("Mon Jan 2, 3:04 PM MST"))
}
