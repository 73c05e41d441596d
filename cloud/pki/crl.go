package pki

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// CRLValidity is how long a CRL made by CRL is valid. A broker that checks
// CRLs (Mosquitto with crlfile) refuses every client once the CRL's next
// update has passed, so it is long; the cloud writes a new one at every
// start and every revocation.
const CRLValidity = 5 * 365 * 24 * time.Hour

// CRL returns a PEM certificate revocation list of the certificates with
// these serials (hex, as ClientCert.Serial), signed by the CA. Numbers must
// grow from one CRL to the next; the time in seconds does.
func (ca *CA) CRL(serials []string, now time.Time) ([]byte, error) {
	entries := make([]x509.RevocationListEntry, 0, len(serials))
	for _, s := range serials {
		n, ok := new(big.Int).SetString(s, 16)
		if !ok {
			return nil, fmt.Errorf("crl: serial %q is not hex", s)
		}
		entries = append(entries, x509.RevocationListEntry{SerialNumber: n, RevocationTime: now})
	}
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(now.Unix()),
		ThisUpdate:                now.Add(-clockSkew),
		NextUpdate:                now.Add(CRLValidity),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.key)
	if err != nil {
		return nil, fmt.Errorf("crl: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), nil
}
