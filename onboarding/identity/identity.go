// Package identity is the clock's identity after onboarding: its own ECDSA
// P-256 key (made on the clock, never sent, never logged), the client
// certificate the cloud signed, the cloud's CA, the MQTT endpoints, the
// company's timezone, the nickname and a hash of the technician passcode
// (never the passcode itself).
//
// It is kept as files under STATE_DIR/identity/ (files.go lists them),
// each written atomically, with a manifest written last that holds the
// digests of the others: a clock that lost power mid-write finds a torn
// identity, says so, and onboards again instead of running with half a
// certificate. The sync issue loads and erases it (a disabled clock erases
// its credentials); the console verifies the technician passcode with it.
package identity

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"timeclock/wire"
)

// ErrNotOnboarded means the clock has no identity: it must be onboarded.
var ErrNotOnboarded = errors.New("identity: not onboarded")

// ErrTorn means identity files are there but do not form a whole identity
// (a write was interrupted, a file was damaged). It is also ErrNotOnboarded.
var ErrTorn = errors.New("identity: torn")

// TornError says why an identity on disk is not whole.
type TornError struct{ Reason string }

func (e *TornError) Error() string { return "identity: torn: " + e.Reason }

// Is makes a TornError both ErrTorn and ErrNotOnboarded.
func (e *TornError) Is(target error) bool { return target == ErrTorn || target == ErrNotOnboarded }

func torn(format string, args ...any) error { return &TornError{Reason: fmt.Sprintf(format, args...)} }

// Identity is an onboarded clock.
type Identity struct {
	DeviceID     string
	Serial       string
	CompanyID    string
	CompanyName  string
	CloudURL     string
	MQTT         wire.Endpoints
	Timezone     string // IANA name, as confirmed on the clock
	Nickname     string
	ActivatedAt  time.Time
	PasscodeHash string // see HashPasscode; never the passcode

	Key     *ecdsa.PrivateKey // the device key; never logged
	Cert    *x509.Certificate // the client certificate (CN = DeviceID)
	CertPEM []byte
	CAPEM   []byte // the cloud's CA, for the broker and the API
}

// String names the identity without any secret, so %v and %+v are safe.
func (id *Identity) String() string {
	if id == nil {
		return "identity(none)"
	}
	return fmt.Sprintf("identity(device %s, serial %s, company %s)", id.DeviceID, id.Serial, id.CompanyID)
}

// GoString is String: %#v must not print the key either.
func (id *Identity) GoString() string { return id.String() }

// LogValue is what slog records: public facts only.
func (id *Identity) LogValue() slog.Value {
	if id == nil {
		return slog.StringValue("none")
	}
	return slog.GroupValue(
		slog.String("device_id", id.DeviceID),
		slog.String("serial", id.Serial),
		slog.String("company_id", id.CompanyID),
		slog.String("nickname", id.Nickname),
		slog.String("timezone", id.Timezone),
	)
}

// TLSCertificate is the client certificate and key for MQTT over TLS.
func (id *Identity) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{id.Cert.Raw}, PrivateKey: id.Key, Leaf: id.Cert}
}

// CAPool is the cloud's CA as a pool for tls.Config.RootCAs.
func (id *Identity) CAPool() (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(id.CAPEM) {
		return nil, errors.New("identity: CA holds no certificate")
	}
	return p, nil
}

// VerifyPasscode checks a technician passcode against the stored hash.
func (id *Identity) VerifyPasscode(passcode string) bool {
	return VerifyPasscode(id.PasscodeHash, passcode)
}

// Location is the identity's timezone; UTC when it names none the clock knows.
func (id *Identity) Location() *time.Location {
	if loc, err := time.LoadLocation(id.Timezone); err == nil && id.Timezone != "" {
		return loc
	}
	return time.UTC
}

// Check verifies the identity is whole: a device ID, a certificate for the
// device key whose CN is the device ID, a CA.
func (id *Identity) Check() error {
	switch {
	case id.DeviceID == "":
		return errors.New("no device ID")
	case id.Key == nil:
		return errors.New("no key")
	case id.Cert == nil:
		return errors.New("no certificate")
	case len(id.CAPEM) == 0:
		return errors.New("no CA")
	}
	pub, ok := id.Cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&id.Key.PublicKey) {
		return errors.New("the certificate is not for the device key")
	}
	if id.Cert.Subject.CommonName != id.DeviceID {
		return fmt.Errorf("certificate CN %q is not the device ID %q", id.Cert.Subject.CommonName, id.DeviceID)
	}
	if _, err := id.CAPool(); err != nil {
		return err
	}
	return nil
}
