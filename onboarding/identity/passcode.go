package identity

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// passcodeIter is the PBKDF2 work factor: under a second on a Raspberry
// Pi Zero class CPU, which a console login can afford. The hash records it,
// so raising it later keeps old hashes valid. Tests lower it.
var passcodeIter = 20_000

// maxIter bounds the work a (damaged) stored hash can ask for.
const maxIter = 5_000_000

// HashPasscode hashes a technician passcode for storage:
// "pbkdf2-sha256$ITER$SALT$HASH" (base64, no padding).
func HashPasscode(passcode string) (string, error) { return hashAt(passcode, passcodeIter) }

func hashAt(passcode string, iter int) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passcode: %w", err)
	}
	sum, err := pbkdf2.Key(sha256.New, passcode, salt, iter, 32)
	if err != nil {
		return "", fmt.Errorf("passcode: %w", err)
	}
	b64 := base64.RawStdEncoding
	return "pbkdf2-sha256$" + strconv.Itoa(iter) + "$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(sum), nil
}

// VerifyPasscode reports whether passcode matches a HashPasscode string. A
// malformed hash matches nothing.
func VerifyPasscode(hash, passcode string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > maxIter {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[2])
	want, err2 := b64.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) != 32 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, passcode, salt, iter, 32)
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
