package identity

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// The technician passcode is kept as a bcrypt hash ("$2a$10$..."): the
// format the serial console checks (agent/console/passcode.go), salted and
// slow, and small in memory where the clock has little.
var passcodeCost = 10 // about 50 ms on a desktop core, under a second on a Pi Zero; tests lower it

// maxCost bounds the work a (damaged) stored hash can ask of a slow clock.
const maxCost = 13

// HashPasscode hashes a technician passcode for storage.
func HashPasscode(passcode string) (string, error) { return hashAt(passcode, passcodeCost) }

func hashAt(passcode string, cost int) (string, error) {
	if passcode == "" || len(passcode) > 72 {
		return "", errors.New("passcode: want 1 to 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(passcode), cost)
	if err != nil {
		return "", fmt.Errorf("passcode: %w", err)
	}
	return string(h), nil
}

// VerifyPasscode reports whether passcode matches a HashPasscode hash. A
// malformed hash, or one asking for more work than the clock allows,
// matches nothing.
func VerifyPasscode(hash, passcode string) bool {
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil || cost > maxCost {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(passcode)) == nil
}
