package console

// The technician's console passcode, hashed and checked.
//
// A hash is a self-describing string: bcrypt ("$2a$10$..."), which the clock
// makes, or argon2id in the PHC format
// ("$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH"), which it also accepts. Both
// are slow and salted; comparisons are constant-time. bcrypt is the default
// because it needs 4 KiB of memory where argon2id needs megabytes, and the
// clock has little to spare.

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// passcodeCost is the bcrypt cost HashPasscode uses: about 50 ms on a desktop core
// and under a second on a Raspberry Pi Zero, slow enough with the console's
// lockout to make guessing hopeless.
const passcodeCost = 10

// passcodeMinLen and passcodeMaxLen bound a passcode; bcrypt reads at most 72 bytes.
const (
	passcodeMinLen = 4
	passcodeMaxLen = 72
)

// Bounds on argon2id parameters, so a hostile hash cannot make the clock
// allocate or compute without limit.
const (
	maxArgonMemKiB = 64 * 1024
	maxArgonTime   = 10
	maxArgonLanes  = 16
	// maxBcryptCost keeps one check on a slow clock under about ten seconds.
	maxBcryptCost = 13
)

// errMalformedHash is returned for a hash the package cannot read.
var errMalformedHash = errors.New("passcode: malformed hash")

// HashPasscode returns a new salted bcrypt hash of the passcode.
func HashPasscode(passcode string) (string, error) { return HashPasscodeCost(passcode, passcodeCost) }

// HashPasscodeCost is HashPasscode with a chosen bcrypt cost (tests use bcrypt.MinCost).
func HashPasscodeCost(passcode string, cost int) (string, error) {
	if n := len(passcode); n < passcodeMinLen || n > passcodeMaxLen {
		return "", fmt.Errorf("passcode: %d characters; want %d to %d", n, passcodeMinLen, passcodeMaxLen)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(passcode), cost)
	if err != nil {
		return "", fmt.Errorf("passcode: %w", err)
	}
	return string(h), nil
}

// checkPasscodeHash reports whether hash is one VerifyPasscode can use,
// without verifying.
func checkPasscodeHash(hash string) error {
	switch scheme(hash) {
	case "bcrypt":
		cost, err := bcrypt.Cost([]byte(hash))
		if err != nil {
			return fmt.Errorf("%w: bcrypt: %v", errMalformedHash, err)
		}
		if cost > maxBcryptCost {
			return fmt.Errorf("%w: bcrypt cost %d over the clock's limit of %d", errMalformedHash, cost, maxBcryptCost)
		}
		return nil
	case "argon2id":
		_, err := parseArgon2id(hash)
		return err
	}
	return fmt.Errorf("%w: want a bcrypt ($2b$...) or argon2id ($argon2id$...) hash", errMalformedHash)
}

// VerifyPasscode reports whether passcode matches hash. A hash it cannot read is an
// error (errMalformedHash), never a match.
func VerifyPasscode(hash, passcode string) (bool, error) {
	if err := checkPasscodeHash(hash); err != nil {
		return false, err
	}
	switch scheme(hash) {
	case "bcrypt":
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(passcode))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword), errors.Is(err, bcrypt.ErrPasswordTooLong):
			return false, nil
		}
		return false, fmt.Errorf("passcode: %w", err)
	default:
		a, _ := parseArgon2id(hash)
		got := argon2.IDKey([]byte(passcode), a.salt, a.time, a.memKiB, a.lanes, uint32(len(a.key)))
		return subtle.ConstantTimeCompare(got, a.key) == 1, nil
	}
}

func scheme(hash string) string {
	switch {
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		return "bcrypt"
	case strings.HasPrefix(hash, "$argon2id$"):
		return "argon2id"
	}
	return ""
}

type argonHash struct {
	time, memKiB uint32
	lanes        uint8
	salt, key    []byte
}

// parseArgon2id reads "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" (base64
// without padding, as the PHC string format has it).
func parseArgon2id(s string) (argonHash, error) {
	bad := func(why string) (argonHash, error) {
		return argonHash{}, fmt.Errorf("%w: argon2id: %s", errMalformedHash, why)
	}
	f := strings.Split(s, "$")
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return bad("want $argon2id$v=19$m=..,t=..,p=..$salt$hash")
	}
	if f[2] != "v=19" {
		return bad("version " + strconv.Quote(f[2]) + ", want v=19")
	}
	var a argonHash
	params := strings.Split(f[3], ",")
	if len(params) != 3 {
		return bad("want parameters m=..,t=..,p=..")
	}
	for i, name := range []string{"m", "t", "p"} {
		k, v, ok := strings.Cut(params[i], "=")
		if !ok || k != name {
			return bad("want parameters m=..,t=..,p=.. in that order")
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return bad("parameter " + name + " is not a positive number")
		}
		switch name {
		case "m":
			if n > maxArgonMemKiB {
				return bad(fmt.Sprintf("memory %d KiB over the clock's limit of %d", n, maxArgonMemKiB))
			}
			a.memKiB = uint32(n)
		case "t":
			if n > maxArgonTime {
				return bad(fmt.Sprintf("time %d over the limit of %d", n, maxArgonTime))
			}
			a.time = uint32(n)
		case "p":
			if n > maxArgonLanes {
				return bad(fmt.Sprintf("parallelism %d over the limit of %d", n, maxArgonLanes))
			}
			a.lanes = uint8(n)
		}
	}
	if a.memKiB < 8*uint32(a.lanes) {
		return bad("memory below 8 KiB per lane")
	}
	var err error
	if a.salt, err = base64.RawStdEncoding.DecodeString(f[4]); err != nil || len(a.salt) < 8 {
		return bad("salt is not base64 of at least 8 bytes")
	}
	if a.key, err = base64.RawStdEncoding.DecodeString(f[5]); err != nil || len(a.key) < 16 || len(a.key) > 64 {
		return bad("hash is not base64 of 16 to 64 bytes")
	}
	return a, nil
}
