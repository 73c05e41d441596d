// Package haltest holds what every implementation of a hal interface must
// do, as test suites (Keypad, Display, BadgeReader, Indicator) that a
// driver's tests run against the driver on test doubles and hal/sim's tests
// run against the simulated board. It also holds EdgePin, the GPIO test
// double the edge-driven drivers share.
//
// It is imported by tests only.
package haltest
