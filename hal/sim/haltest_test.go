package sim

import (
	"fmt"
	"testing"

	"timeclock/hal"
	"timeclock/hal/haltest"
)

// The simulated board keeps the same hal rules as the real drivers.

func newBoard(t *testing.T) *Board {
	t.Helper()
	b, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeypadSuite(t *testing.T) {
	haltest.Keypad(t, func(t *testing.T) haltest.KeypadHarness {
		b := newBoard(t)
		return haltest.KeypadHarness{
			Dev: b.Keypad(),
			Press: func(t testing.TB, k hal.Key) {
				if err := b.Press(k); err != nil {
					t.Fatal(err)
				}
			},
			Keys: hal.Keys(),
		}
	})
}

func TestDisplaySuite(t *testing.T) {
	haltest.Display(t, func(t *testing.T) haltest.DisplayHarness {
		b := newBoard(t)
		return haltest.DisplayHarness{
			Dev:    b.Display(),
			Screen: func(testing.TB) []string { return b.Screen() },
			Lit:    func(testing.TB) bool { return b.Lights().Backlight },
		}
	})
}

func TestBadgeReaderSuite(t *testing.T) {
	haltest.BadgeReader(t, func(t *testing.T) haltest.BadgeHarness {
		b := newBoard(t)
		return haltest.BadgeHarness{
			Dev: b.BadgeReader(),
			Swipe: func(t testing.TB, i int) hal.BadgeEvent {
				n := fmt.Sprint(100200 + i)
				if i%2 == 1 { // every other card with a facility code
					if err := b.Swipe(fmt.Sprintf("%d:%s", i, n)); err != nil {
						t.Fatal(err)
					}
					return hal.BadgeEvent{Format: hal.FormatSim, Facility: uint32(i), Number: n}
				}
				if err := b.Swipe(n); err != nil {
					t.Fatal(err)
				}
				return hal.BadgeEvent{Format: hal.FormatSim, Number: n}
			},
		}
	})
}

func TestIndicatorSuite(t *testing.T) {
	haltest.Indicator(t, func(t *testing.T) haltest.IndicatorHarness {
		b := newBoard(t)
		return haltest.IndicatorHarness{
			Dev: b.Indicator(),
			LED: func(l hal.LED) bool {
				s := b.Lights()
				if l == hal.LEDGreen {
					return s.Green
				}
				return s.Red
			},
			Sounded: func() int { return b.Lights().Beeps },
		}
	})
}
