package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"timeclock/internal/atomicfile"
	"timeclock/release"
)

// releaseCommand runs "timeclock-cloud release keygen|sign|verify"
// (docs/updates.md): the vendor's signing tool for update artifacts. It
// returns the exit code.
func releaseCommand(args []string, stdout, stderr io.Writer) int {
	usage := func() int {
		fmt.Fprintln(stderr, "usage: timeclock-cloud release keygen --out KEYFILE | sign (--key KEYFILE | --dev) --version V --arch A --model M... [--floor V] [--notes TEXT] --out FILE BINARY | verify --pubkey KEY ARTIFACT")
		return 2
	}
	if len(args) < 1 {
		return usage()
	}
	fs := flag.NewFlagSet("timeclock-cloud release "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "the file to write")
	var err error
	switch args[0] {
	case "keygen":
		if err = fs.Parse(args[1:]); err != nil {
			return 2
		}
		err = keygen(*out, stdout)
	case "sign":
		key := fs.String("key", "", "the signing key file (release keygen's; keep it off the cloud)")
		dev := fs.Bool("dev", false, "sign with the public development key (clocks trust it only when their config names it)")
		var m release.Manifest
		var models listFlag
		fs.StringVar(&m.Version, "version", "", "the binary's version (what timeclockd --version says)")
		fs.StringVar(&m.Arch, "arch", "", "the platform: linux/arm/v6, linux/arm/v7, linux/arm64, linux/amd64")
		fs.Var(&models, "model", "a board model it is for (repeat), or * for all")
		fs.StringVar(&m.Floor, "floor", "", "the lowest version it may replace")
		fs.StringVar(&m.Notes, "notes", "", "release notes")
		if err = fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() != 1 || *out == "" || (*key == "") == !*dev {
			return usage()
		}
		m.Models = models
		err = sign(m, *key, *dev, fs.Arg(0), *out, stdout)
	case "verify":
		pub := fs.String("pubkey", "", "the public key (base64) to check against; default the development key")
		if err = fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() != 1 {
			return usage()
		}
		err = verify(*pub, fs.Arg(0), stdout)
	default:
		return usage()
	}
	if err != nil {
		fmt.Fprintln(stderr, "timeclock-cloud release:", err)
		return 1
	}
	return 0
}

func keygen(out string, stdout io.Writer) error {
	if out == "" {
		return errors.New("keygen: --out KEYFILE is required (the private key never goes to stdout)")
	}
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("keygen: %s exists; not overwriting a key", out)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(out, []byte(release.EncodePrivateKey(priv)+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "private key: %s (mode 0600; keep it offline)\npublic key:  %s\nkey id:      %s\n", out, release.EncodePublicKey(pub), release.KeyID(pub))
	return nil
}

func sign(m release.Manifest, keyFile string, dev bool, bin, out string, stdout io.Writer) error {
	key := release.DevKey()
	if !dev {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return err
		}
		if key, err = release.ParsePrivateKey(string(b)); err != nil {
			return fmt.Errorf("%s: %w", keyFile, err)
		}
	}
	payload, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	art, err := release.Sign(m, payload, key)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if err := atomicfile.Write(out, art, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: version %s for %s, %d bytes, key %s\n", out, m.Version, m.Arch, len(art), release.KeyID(key.Public().(ed25519.PublicKey)))
	return nil
}

func verify(pub, file string, stdout io.Writer) error {
	if pub == "" {
		pub = release.DevPublicKey()
	}
	k, err := release.ParsePublicKey(pub)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	h, err := release.Verify(b, []ed25519.PublicKey{k})
	if err != nil {
		return err
	}
	m := h.Manifest
	fmt.Fprintf(stdout, "valid: version %s for %s, models %v, floor %q, %d bytes, sha256 %s, key %s\n", m.Version, m.Arch, m.Models, m.Floor, m.Size, m.SHA256, h.KeyID)
	return nil
}
