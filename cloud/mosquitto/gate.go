package mosquitto

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"timeclock/clock"
	"timeclock/cloud/pki"
	"timeclock/cloud/store"
	"timeclock/internal/atomicfile"
)

// Gate keeps an external Mosquitto's CRL and ACL in step with the store:
// every disabled clock is denied, every revoked certificate is in the CRL.
type Gate struct {
	// Dir is the broker's directory (Generate's), where crl.pem and acl are.
	Dir string
	// PIDFile is Mosquitto's pid_file; the gate sends that process SIGHUP
	// after rewriting. Empty: the files are written and something else
	// (a systemd path unit, an operator) must reload Mosquitto.
	PIDFile string
	CA      *pki.CA
	Store   store.Store
	Clock   clock.Clock
	Log     *slog.Logger

	mu sync.Mutex // one rewrite at a time
}

// Refuse cuts a disabled clock off at the broker.
func (g *Gate) Refuse(ctx context.Context, deviceID string) error {
	if err := g.Sync(ctx); err != nil {
		return err
	}
	g.Log.Info("mosquitto: device refused (crl and acl reloaded)", "device", deviceID)
	return nil
}

// Changed is told when which certificates are good changed (an onboarding
// replaced a certificate, or approved a disabled clock again).
func (g *Gate) Changed(ctx context.Context) error { return g.Sync(ctx) }

// Sync rewrites crl.pem and acl from the store and reloads Mosquitto.
func (g *Gate) Sync(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	var devs []store.Device
	err := g.Store.View(ctx, func(tx store.Tx) (err error) {
		devs, err = tx.AllDevices()
		return err
	})
	if err != nil {
		return fmt.Errorf("mosquitto gate: %w", err)
	}
	var denied, serials []string
	for _, d := range devs {
		if d.Status == store.DeviceDisabled {
			denied = append(denied, d.ID)
		}
		serials = append(serials, d.RevokedSerials...)
	}
	crl, err := g.CA.CRL(serials, g.Clock.Now())
	if err != nil {
		return fmt.Errorf("mosquitto gate: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(g.Dir, CRLFile), crl, 0o644); err != nil {
		return fmt.Errorf("mosquitto gate: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(g.Dir, ACLFile), ACL(denied), 0o644); err != nil {
		return fmt.Errorf("mosquitto gate: %w", err)
	}
	return g.reload()
}

// reload sends SIGHUP to the pid in PIDFile.
func (g *Gate) reload() error {
	if g.PIDFile == "" {
		g.Log.Warn("mosquitto: crl and acl rewritten; reload mosquitto to apply them (no pid file given)", "dir", g.Dir)
		return nil
	}
	b, err := os.ReadFile(g.PIDFile)
	if err != nil {
		return fmt.Errorf("mosquitto gate: pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("mosquitto gate: pid file %s: %q is not a process ID", g.PIDFile, strings.TrimSpace(string(b)))
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("mosquitto gate: mosquitto (pid %d from %s) is not running", pid, g.PIDFile)
		}
		return fmt.Errorf("mosquitto gate: SIGHUP to pid %d: %w", pid, err)
	}
	return nil
}
