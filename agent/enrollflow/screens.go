package enrollflow

import "strings"

// Screen renders the session for a display of cols x rows (16x2 and up);
// nil means "leave the screen as it is" (the busy states, a few ms).
func Screen(s Session, cols, rows int) []string {
	var lines []string
	switch s.state {
	case StateSupervisor:
		lines = []string{"Supervisor", pinLine(s.pin, "Badge or PIN"), "", "Clear=cancel"}
	case StateEmployee:
		second := "Employee badge"
		if s.hint != "" {
			second = s.hint
		}
		if s.pin != "" {
			second = "Employee PIN"
		}
		third := pinLine(s.pin, "or PIN, Up/Down")
		if s.picked.Found {
			second, third = "> "+s.picked.Name, "Enter=pick"
		}
		if rows < 4 {
			lines = []string{second, third}
		} else {
			lines = []string{"Enroll finger", second, third, "Clear=cancel"}
		}
	case StateConsent:
		if rows < 4 {
			lines = []string{s.employee.Name, "Consent? Enter"}
		} else {
			lines = []string{s.employee.Name, "consents to a", "fingerprint scan", "Enter=yes Clr=no"}
		}
	case StateScan:
		first := "Place finger"
		if s.n > 1 {
			first = "Again " + string(rune('0'+s.n)) + "/3"
		}
		second := s.hint
		if second == "" {
			second = s.employee.Name
		}
		lines = []string{first, second, "", "Clear=cancel"}
	case StateLift:
		second := s.hint
		if second == "" {
			second = s.employee.Name
		}
		lines = []string{"Lift finger", second, "", "Clear=cancel"}
	case StateResult:
		lines = s.msg
	default:
		return nil
	}
	if len(lines) > rows {
		lines = lines[:rows]
	}
	for i, l := range lines {
		if r := []rune(l); len(r) > cols {
			lines[i] = string(r[:cols])
		}
	}
	return lines
}

// pinLine is the entry line: blank's text, or the PIN as stars.
func pinLine(pin, blank string) string {
	if pin == "" {
		return blank
	}
	return "PIN: " + strings.Repeat("*", len(pin))
}
