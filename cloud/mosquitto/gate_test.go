package mosquitto_test

import (
	"context"
	"crypto/tls"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"timeclock/clock"
	"timeclock/cloud/bus"
	"timeclock/cloud/internal/recv"
	"timeclock/cloud/mosquitto"
	"timeclock/cloud/mosquitto/mosquittotest"
	"timeclock/cloud/pki"
	"timeclock/cloud/store"
	"timeclock/cloud/store/boltstore"
	"timeclock/cloud/synctest"
	"timeclock/internal/await"
	"timeclock/wire"
)

type fixture struct {
	ca    *pki.CA
	st    store.Store
	b     *mosquittotest.Broker
	cloud *bus.External
	in    *recv.Inbox
	gate  *mosquitto.Gate
}

func cloudTLS(t *testing.T, ca *pki.CA, dir string) *tls.Config {
	t.Helper()
	if err := mosquitto.WriteClientCert(ca, dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, mosquitto.ClientFile), filepath.Join(dir, mosquitto.ClientKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: ca.Pool(), Certificates: []tls.Certificate{pair}, ServerName: "localhost"}
}

func setup(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := pki.LoadOrCreate(dir, "test CA", true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(dir, "cloud.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{ca: ca, st: st, b: mosquittotest.Start(t, ca), in: &recv.Inbox{}}
	f.gate = &mosquitto.Gate{Dir: f.b.Dir, PIDFile: f.b.PIDFile(), CA: ca, Store: st, Clock: clock.Real{}, Log: slog.New(slog.DiscardHandler)}
	f.cloud, err = bus.DialExternal(bus.ExternalConfig{URL: "mqtts://" + strings.TrimPrefix(f.b.TLSURL(), "tls://"), TLS: cloudTLS(t, ca, dir)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cloud.Close() })
	if err := f.cloud.Subscribe(wire.TopicPrefix+"+/"+wire.TopicPunches, f.in.Add); err != nil {
		t.Fatal(err)
	}
	await.True(t, 10*time.Second, f.cloud.Connected, "the cloud never connected to mosquitto:\n%s", f.b.Log())
	return f
}

func (f *fixture) putDevice(t *testing.T, d store.Device) {
	t.Helper()
	if err := f.st.Update(context.Background(), func(tx store.Tx) error { return tx.PutDevice(d) }); err != nil {
		t.Fatal(err)
	}
}

// device connects a simulated clock, or returns the broker's refusal.
func device(t *testing.T, id string, cfg *tls.Config, url string) (*synctest.Device, error) {
	t.Helper()
	d := synctest.NewDevice(id, cfg)
	if err := d.Connect(url); err != nil {
		return nil, err
	}
	t.Cleanup(d.Close)
	return d, nil
}

// delivered publishes a marker from d and reports whether the cloud got it.
// A refused publish is silently dropped by Mosquitto, so "not delivered"
// is decided by a second marker from a clock that is allowed.
func (f *fixture) publishes(t *testing.T, d *synctest.Device, id, msg string) {
	t.Helper()
	if err := d.Publish(wire.Topic(id, wire.TopicPunches), []byte(msg), false); err != nil {
		t.Logf("publish %s: %v", msg, err)
	}
}

func TestMosquittoACLAndRevocation(t *testing.T) {
	f := setup(t)
	cfgA, serialA := synctest.Issue(t, f.ca, "aaaa000000000001")
	cfgB, serialB := synctest.Issue(t, f.ca, "bbbb000000000002")
	f.putDevice(t, store.Device{ID: "aaaa000000000001", CompanyID: "1", Serial: "A", Status: store.DeviceApproved, CertSerial: serialA})
	f.putDevice(t, store.Device{ID: "bbbb000000000002", CompanyID: "1", Serial: "B", Status: store.DeviceApproved, CertSerial: serialB})
	if err := f.gate.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Both listeners carry a clock's punches to the cloud.
	a, err := device(t, "aaaa000000000001", cfgA, f.b.TLSURL())
	if err != nil {
		t.Fatalf("tls: %v\n%s", err, f.b.Log())
	}
	f.publishes(t, a, "aaaa000000000001", "a over tls")
	await.True(t, 10*time.Second, func() bool { return f.in.Has("tc/v1/aaaa000000000001/punches a over tls") }, "tls punch never arrived:\n%s", f.in.All())
	aws, err := device(t, "aaaa000000000001", cfgA.Clone(), f.b.WSURL()) // takes the session over from a
	if err != nil {
		t.Fatalf("wss: %v\n%s", err, f.b.Log())
	}
	b, err := device(t, "bbbb000000000002", cfgB, f.b.TLSURL())
	if err != nil {
		t.Fatal(err)
	}
	f.publishes(t, aws, "aaaa000000000001", "a over wss")
	await.True(t, 10*time.Second, func() bool { return f.in.Has("tc/v1/aaaa000000000001/punches a over wss") }, "wss punch never arrived:\n%s", f.in.All())

	// A clock cannot publish under another clock's ID; its client ID is its CN.
	f.publishes(t, b, "aaaa000000000001", "forged by b")
	f.publishes(t, b, "bbbb000000000002", "b marker")
	await.True(t, 10*time.Second, func() bool { return f.in.Has("tc/v1/bbbb000000000002/punches b marker") }, "b's marker never arrived")
	if strings.Contains(f.in.All(), "forged") {
		t.Fatalf("a forged punch reached the cloud:\n%s", f.in.All())
	}
	// B's certificate with A's client ID: mosquitto makes the client ID
	// B's (so it takes B's session over) and A's topics stay closed to it.
	spoof := synctest.NewDevice("aaaa000000000001", cfgB.Clone())
	if err := spoof.Connect(f.b.TLSURL()); err == nil {
		spoof.Publish(wire.Topic("aaaa000000000001", wire.TopicPunches), []byte("spoofed"), false)
		spoof.Close()
	}
	if b, err = device(t, "bbbb000000000002", cfgB.Clone(), f.b.TLSURL()); err != nil {
		t.Fatal(err)
	}

	// Disable A: its serial into the CRL, its ID denied, mosquitto reloaded.
	live, err := device(t, "aaaa000000000001", cfgA.Clone(), f.b.TLSURL())
	if err != nil {
		t.Fatal(err)
	}
	f.putDevice(t, store.Device{ID: "aaaa000000000001", CompanyID: "1", Serial: "A", Status: store.DeviceDisabled,
		CertSerial: serialA, RevokedSerials: []string{serialA}})
	if err := f.gate.Refuse(context.Background(), "aaaa000000000001"); err != nil {
		t.Fatal(err)
	}
	// The TLS listener refuses the certificate once mosquitto reloaded.
	await.True(t, 10*time.Second, func() bool {
		d := synctest.NewDevice("aaaa000000000001", cfgA.Clone())
		err := d.Connect(f.b.TLSURL())
		d.Close()
		return err != nil
	}, "the disabled clock's certificate still connects over TLS:\n%s", f.b.Log())
	// The live session and a WebSocket session (mosquitto skips the CRL
	// there) get nothing through.
	f.publishes(t, live, "aaaa000000000001", "after disable, live session")
	if ws, err := device(t, "aaaa000000000001", cfgA.Clone(), f.b.WSURL()); err == nil {
		f.publishes(t, ws, "aaaa000000000001", "after disable, over wss")
	}
	f.publishes(t, b, "bbbb000000000002", "b still works")
	await.True(t, 10*time.Second, func() bool { return f.in.Has("tc/v1/bbbb000000000002/punches b still works") }, "b stopped working")
	if s := f.in.All(); strings.Contains(s, "after disable") || strings.Contains(s, "spoofed") {
		t.Fatalf("the disabled clock got through:\n%s", s)
	}

	// Onboarded again: a new certificate works, the old one stays refused on TLS.
	cfgA2, serialA2 := synctest.Issue(t, f.ca, "aaaa000000000001")
	f.putDevice(t, store.Device{ID: "aaaa000000000001", CompanyID: "1", Serial: "A", Status: store.DeviceApproved,
		CertSerial: serialA2, RevokedSerials: []string{serialA}})
	if err := f.gate.Changed(context.Background()); err != nil {
		t.Fatal(err)
	}
	var again *synctest.Device
	await.True(t, 10*time.Second, func() bool {
		again, err = device(t, "aaaa000000000001", cfgA2, f.b.TLSURL())
		return err == nil
	}, "the new certificate never connected: %v", err)
	f.publishes(t, again, "aaaa000000000001", "a is back")
	await.True(t, 10*time.Second, func() bool { return f.in.Has("tc/v1/aaaa000000000001/punches a is back") }, "a's punches after onboarding again never arrived")
	old := synctest.NewDevice("aaaa000000000001", cfgA.Clone())
	if err := old.Connect(f.b.TLSURL()); err == nil {
		old.Close()
		t.Fatal("the old certificate connected over TLS after onboarding again")
	}
}

func TestGateWithoutPIDFileOnlyWrites(t *testing.T) {
	dir := t.TempDir()
	ca, _, _ := pki.LoadOrCreate(dir, "test CA", true, time.Now())
	st, _ := boltstore.Open(filepath.Join(dir, "cloud.db"))
	defer st.Close()
	st.Update(context.Background(), func(tx store.Tx) error {
		return tx.PutDevice(store.Device{ID: "d1", CompanyID: "1", Serial: "S", Status: store.DeviceDisabled, RevokedSerials: []string{"0abc"}})
	})
	g := &mosquitto.Gate{Dir: dir, CA: ca, Store: st, Clock: clock.Real{}, Log: slog.New(slog.DiscardHandler)}
	if err := g.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	g.PIDFile = filepath.Join(dir, "missing.pid")
	if err := g.Sync(context.Background()); err == nil || !strings.Contains(err.Error(), "pid file") {
		t.Fatalf("missing pid file: %v", err)
	}
}
