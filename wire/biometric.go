package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Biometric report kinds.
const (
	BiometricConsent = "consent" // the employee consented and was enrolled on the clock
	BiometricDeleted = "deleted" // the employee's templates are gone from the clock
)

// BiometricReport is a clock's record of a consent or a deletion. It
// carries no biometric data: who, when, which supervisor, why. Seq is the
// clock's own number for it; the cloud stores it once per clock and Seq.
type BiometricReport struct {
	Seq        uint64    `json:"seq"`
	Kind       string    `json:"kind"`
	Employee   string    `json:"employee"`
	Supervisor string    `json:"supervisor,omitempty"` // consent: who enrolled the finger
	At         time.Time `json:"at"`
	Reason     string    `json:"reason,omitempty"`  // deleted: why
	Command    string    `json:"command,omitempty"` // deleted: the cloud command that asked
}

// BiometricReports is the body of a TopicBiometrics message.
type BiometricReports struct {
	Reports []BiometricReport `json:"reports"`
}

// MaxBiometricReports bounds one message.
const MaxBiometricReports = 500

// DecodeBiometricReports decodes and checks a TopicBiometrics message. A
// field it does not know is refused: nothing else (and nothing biometric)
// rides along.
func DecodeBiometricReports(b []byte) (BiometricReports, error) {
	var r BiometricReports
	if len(b) > MaxPayload {
		return r, payloadErr("biometric reports", fmt.Errorf("%d bytes, at most %d", len(b), MaxPayload))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&r); err != nil {
		return BiometricReports{}, payloadErr("biometric reports", err)
	}
	if len(r.Reports) == 0 || len(r.Reports) > MaxBiometricReports {
		return BiometricReports{}, payloadErr("biometric reports", fmt.Errorf("%d reports, want 1-%d", len(r.Reports), MaxBiometricReports))
	}
	for i, x := range r.Reports {
		var err error
		switch {
		case x.Seq == 0:
			err = errors.New("seq 0")
		case x.Kind != BiometricConsent && x.Kind != BiometricDeleted:
			err = fmt.Errorf("kind %q", x.Kind)
		case x.Employee == "" || len(x.Employee) > MaxEmployeeIDLen || !Printable(x.Employee):
			err = errors.New("employee: want 1-32 printable characters")
		case x.Kind == BiometricConsent && (x.Supervisor == "" || len(x.Supervisor) > MaxEmployeeIDLen || !Printable(x.Supervisor)):
			err = errors.New("consent: supervisor: want 1-32 printable characters")
		case x.At.IsZero():
			err = errors.New("time missing")
		case len(x.Reason) > maxFieldLen || !Printable(x.Reason) || len(x.Command) > maxIDLen || !Printable(x.Command):
			err = errors.New("reason or command too long")
		}
		if err != nil {
			return BiometricReports{}, payloadErr("biometric reports", fmt.Errorf("reports[%d]: %w", i, err))
		}
	}
	return r, nil
}
