package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ErrBadCSR is wrapped by every reason ParseCSR refuses a request.
var ErrBadCSR = errors.New("bad certificate request")

// maxCSR bounds the PEM a clock may send; a P-256 CSR is well under 1 KiB.
const maxCSR = 8 << 10

// ParseCSR reads a PEM CERTIFICATE REQUEST, checks its signature (the clock
// holds the key) and that the key is ECDSA P-256. Errors say which check
// failed and wrap ErrBadCSR.
func ParseCSR(p string) (*x509.CertificateRequest, error) {
	if len(p) > maxCSR {
		return nil, fmt.Errorf("%w: %d bytes is too long", ErrBadCSR, len(p))
	}
	blk, _ := pem.Decode([]byte(p))
	if blk == nil {
		return nil, fmt.Errorf("%w: not PEM", ErrBadCSR)
	}
	if blk.Type != "CERTIFICATE REQUEST" && blk.Type != "NEW CERTIFICATE REQUEST" {
		return nil, fmt.Errorf("%w: PEM block is %q, want CERTIFICATE REQUEST", ErrBadCSR, blk.Type)
	}
	csr, err := x509.ParseCertificateRequest(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCSR, err)
	}
	pub, ok := csr.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: key is %s, want ECDSA P-256", ErrBadCSR, csr.PublicKeyAlgorithm)
	}
	if pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: curve %s, want P-256", ErrBadCSR, pub.Curve.Params().Name)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrBadCSR, err)
	}
	return csr, nil
}
