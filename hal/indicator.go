package hal

import "fmt"

// LED names an indicator LED.
type LED uint8

// The LEDs every model has.
const (
	LEDGreen LED = iota
	LEDRed
)

func (l LED) String() string {
	switch l {
	case LEDGreen:
		return "green"
	case LEDRed:
		return "red"
	}
	return fmt.Sprintf("LED(%d)", uint8(l))
}

// Pattern is a buzzer pattern.
type Pattern uint8

// Buzzer patterns: one short beep for an accepted action, a long low one
// (or three short ones on a plain buzzer) for a refusal.
const (
	PatternOK Pattern = iota + 1
	PatternError
)

func (p Pattern) String() string {
	switch p {
	case PatternOK:
		return "ok"
	case PatternError:
		return "error"
	}
	return fmt.Sprintf("Pattern(%d)", uint8(p))
}
