package identity

// The files under STATE_DIR/identity/. The manifest is written last and
// names the digests of the others; without it the rest is not an identity.
const (
	dirName      = "identity"
	keyFile      = "key.pem"       // PKCS#8 "PRIVATE KEY", mode 0600, made on the clock
	certFile     = "cert.pem"      // the client certificate
	caFile       = "ca.pem"        // the cloud's CA
	manifestFile = "identity.json" // facts and digests; its presence means onboarded
	// serialFile (in STATE_DIR, not identity/: erasing the identity keeps
	// the serial) holds a serial generated on a board that has none.
	serialFile = "serial"
)

// digested are the files whose SHA-256 the manifest records.
var digested = []string{keyFile, certFile, caFile}
