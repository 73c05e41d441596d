package enroll

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
)

// CodeDigits is the length of an authentication code.
const CodeDigits = 6

// PasscodeDigits is the length of a technician passcode: digits, so it can
// be typed on a keypad as well as a console.
const PasscodeDigits = 10

func randomDigits(n int) (string, error) {
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
	v, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return fmt.Sprintf("%0*d", n, v), nil
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

func newSessionID() (string, error) {
	b, err := randomBytes(16)
	return base64.RawURLEncoding.EncodeToString(b), err
}

// newDeviceID is 16 lower-case hex digits: safe in an MQTT topic, a
// certificate CN and a file name, short enough to read out on the phone.
func newDeviceID() (string, error) {
	b, err := randomBytes(8)
	return hex.EncodeToString(b), err
}
