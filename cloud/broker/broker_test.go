package broker

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"timeclock/cloud/internal/recv"
	"timeclock/internal/await"
	"timeclock/wire"
)

// testPKI is a CA with a server certificate for localhost.
type testPKI struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool
	server tls.Certificate
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{ca: ca, caKey: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.server = p.issue(t, "localhost", x509.ExtKeyUsageServerAuth)
	return p
}

func (p *testPKI) issue(t *testing.T, cn string, eku x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{eku}, KeyUsage: x509.KeyUsageDigitalSignature,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

type allowList struct {
	mu      sync.Mutex
	refused map[string]bool // device IDs and certificate serials
}

func (a *allowList) allowed(id, serial string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.refused[id] && !a.refused[serial]
}

func (a *allowList) refuse(id string) {
	a.mu.Lock()
	a.refused[id] = true
	a.mu.Unlock()
}

func startBroker(t *testing.T, p *testPKI) (*Broker, *allowList) {
	t.Helper()
	al := &allowList{refused: map[string]bool{}}
	b, err := Start(Config{TLSAddr: "127.0.0.1:0", WSAddr: "127.0.0.1:0", Certificate: p.server, ClientCAs: p.pool, Allowed: al.allowed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, al
}

// connect returns a connected paho client for the device, or the error.
func connect(t *testing.T, p *testPKI, url, clientID string, cert tls.Certificate) (paho.Client, error) {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).
		SetTLSConfig(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second).SetProtocolVersion(4)
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("connect timed out")
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

func pub(t *testing.T, c paho.Client, topic, payload string) error {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("publish timed out")
	}
	return tok.Error()
}

func TestDevicePublishesOverTLSAndWebSocket(t *testing.T) {
	p := newPKI(t)
	b, _ := startBroker(t, p)
	var in recv.Inbox
	if err := b.Subscribe(wire.TopicPrefix+"+/"+wire.TopicPunches, in.Add); err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"tls://" + b.TLSAddr(), "wss://" + b.WSAddr() + "/mqtt"} {
		c, err := connect(t, p, url, "dev-1", p.issue(t, "dev-1", x509.ExtKeyUsageClientAuth))
		if err != nil {
			t.Fatalf("%s: %v", url, err)
		}
		msg := "hello over " + url[:3]
		if err := pub(t, c, wire.Topic("dev-1", wire.TopicPunches), msg); err != nil {
			t.Fatal(err)
		}
		await.True(t, 5*time.Second, func() bool { return in.Has("tc/v1/dev-1/punches " + msg) }, "cloud never got %q; got %s", msg, in.All())
		c.Disconnect(0)
	}
}

func TestCloudPublishesToDevice(t *testing.T) {
	p := newPKI(t)
	b, _ := startBroker(t, p)
	c, err := connect(t, p, "tls://"+b.TLSAddr(), "dev-2", p.issue(t, "dev-2", x509.ExtKeyUsageClientAuth))
	if err != nil {
		t.Fatal(err)
	}
	var in recv.Inbox
	tok := c.Subscribe(wire.Topic("dev-2", wire.TopicAck), 1, func(_ paho.Client, m paho.Message) { in.Add(m.Topic(), m.Payload()) })
	tok.Wait()
	if err := b.Publish(wire.Topic("dev-2", wire.TopicAck), []byte("ack-1"), false); err != nil {
		t.Fatal(err)
	}
	await.True(t, 5*time.Second, func() bool { return in.Has("tc/v1/dev-2/ack ack-1") }, "device never got the ack")
}

func TestDeviceCannotUseAnotherDevicesTopics(t *testing.T) {
	p := newPKI(t)
	b, _ := startBroker(t, p)
	var in recv.Inbox
	b.Subscribe("tc/v1/#", in.Add)
	c, err := connect(t, p, "tls://"+b.TLSAddr(), "dev-a", p.issue(t, "dev-a", x509.ExtKeyUsageClientAuth))
	if err != nil {
		t.Fatal(err)
	}
	// Subscriptions outside its own down-topics are refused in the SUBACK.
	for _, filter := range []string{"tc/v1/dev-b/cmd", "tc/v1/+/cmd", "#", "tc/v1/dev-a/#", "tc/v1/dev-a/punches"} {
		tok := c.Subscribe(filter, 1, nil)
		tok.Wait()
		res := tok.(*paho.SubscribeToken).Result()
		if res[filter] != 0x80 {
			t.Errorf("subscribe %q granted (result %#x)", filter, res[filter])
		}
	}
	// A publish to another device's topic (or against the direction of its
	// own), then a marker to its own up-topic: when the marker arrives, a
	// forged message would have arrived before it. mochi answers a refused
	// MQTT 3.1.1 publish by dropping the connection, so reconnect as needed.
	for _, topic := range []string{wire.Topic("dev-b", wire.TopicPunches), wire.Topic("dev-a", wire.TopicAck)} {
		if !c.IsConnectionOpen() {
			if c, err = connect(t, p, "tls://"+b.TLSAddr(), "dev-a", p.issue(t, "dev-a", x509.ExtKeyUsageClientAuth)); err != nil {
				t.Fatal(err)
			}
		}
		pub(t, c, topic, "forged")
	}
	c.Disconnect(0)
	if c, err = connect(t, p, "tls://"+b.TLSAddr(), "dev-a", p.issue(t, "dev-a", x509.ExtKeyUsageClientAuth)); err != nil {
		t.Fatal(err)
	}
	pub(t, c, wire.Topic("dev-a", wire.TopicPunches), "marker")
	await.True(t, 5*time.Second, func() bool { return in.Has("tc/v1/dev-a/punches marker") }, "marker never arrived")
	if s := in.All(); strings.Contains(s, "forged") {
		t.Fatalf("forged message delivered:\n%s", s)
	}
}

func TestRefusedConnections(t *testing.T) {
	p := newPKI(t)
	b, al := startBroker(t, p)
	other := newPKI(t)
	al.refuse("dev-off")
	for _, tc := range []struct {
		name     string
		clientID string
		cert     tls.Certificate
	}{
		{"client ID is not the certificate's CN", "dev-x", p.issue(t, "dev-y", x509.ExtKeyUsageClientAuth)},
		{"device not allowed (disabled)", "dev-off", p.issue(t, "dev-off", x509.ExtKeyUsageClientAuth)},
		{"certificate from another CA", "dev-z", other.issue(t, "dev-z", x509.ExtKeyUsageClientAuth)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := connect(t, p, "tls://"+b.TLSAddr(), tc.clientID, tc.cert); err == nil {
				t.Fatal("connection accepted")
			}
		})
	}
}

func TestOldCertificateOfADeviceRefused(t *testing.T) {
	p := newPKI(t)
	b, al := startBroker(t, p)
	old := p.issue(t, "dev-r", x509.ExtKeyUsageClientAuth)
	leaf, _ := x509.ParseCertificate(old.Certificate[0])
	al.refuse(fmt.Sprintf("%x", leaf.SerialNumber))
	if _, err := connect(t, p, "tls://"+b.TLSAddr(), "dev-r", old); err == nil {
		t.Fatal("the refused certificate connected")
	}
	if _, err := connect(t, p, "tls://"+b.TLSAddr(), "dev-r", p.issue(t, "dev-r", x509.ExtKeyUsageClientAuth)); err != nil {
		t.Fatalf("the device's new certificate: %v", err)
	}
}

func TestKickDisconnects(t *testing.T) {
	p := newPKI(t)
	b, al := startBroker(t, p)
	lost := make(chan struct{}, 1)
	o := paho.NewClientOptions().AddBroker("tls://" + b.TLSAddr()).SetClientID("dev-k").
		SetTLSConfig(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{p.issue(t, "dev-k", x509.ExtKeyUsageClientAuth)}, ServerName: "localhost"}).
		SetAutoReconnect(false).SetConnectionLostHandler(func(paho.Client, error) { lost <- struct{}{} })
	c := paho.NewClient(o)
	if tok := c.Connect(); tok.Wait() && tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer c.Disconnect(0)
	await.True(t, 5*time.Second, func() bool { return b.Connected("dev-k") }, "device not connected")
	al.refuse("dev-k")
	b.Kick("dev-k")
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("kicked device still connected")
	}
	if _, err := connect(t, p, "tls://"+b.TLSAddr(), "dev-k", p.issue(t, "dev-k", x509.ExtKeyUsageClientAuth)); err == nil {
		t.Fatal("refused device reconnected")
	}
}

func TestAllowedTopic(t *testing.T) {
	for _, tc := range []struct {
		topic string
		write bool
		ok    bool
	}{
		{"tc/v1/d/punches", true, true},
		{"tc/v1/d/status", true, true},
		{"tc/v1/d/cmd/result", true, true},
		{"tc/v1/d/ack", true, false},
		{"tc/v1/d/cmd", true, false},
		{"tc/v1/d/ack", false, true},
		{"tc/v1/d/cmd", false, true},
		{"tc/v1/d/punches", false, false},
		{"tc/v1/d/+", false, false},
		{"tc/v1/dd/punches", true, false},
		{"tc/v1/e/punches", true, false},
	} {
		if got := allowedTopic("d", tc.topic, tc.write); got != tc.ok {
			t.Errorf("allowedTopic(d, %q, write=%v) = %v", tc.topic, tc.write, got)
		}
	}
}

// Close returns while devices are connecting and disconnecting on both
// listeners. mochi's own close-clients path deadlocks when a client leaves
// during it; the listeners close their connections themselves instead.
func TestCloseWhileClientsComeAndGo(t *testing.T) {
	p := newPKI(t)
	for round := range 5 {
		al := &allowList{refused: map[string]bool{}}
		b, err := Start(Config{TLSAddr: "127.0.0.1:0", WSAddr: "127.0.0.1:0", Certificate: p.server, ClientCAs: p.pool, Allowed: al.allowed})
		if err != nil {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		connects := 0
		for i := range 8 {
			url := "tls://" + b.TLSAddr()
			if i%2 == 1 {
				url = "wss://" + b.WSAddr() + "/mqtt"
			}
			id := fmt.Sprintf("dev-%d-%d", round, i)
			cert := p.issue(t, id, x509.ExtKeyUsageClientAuth)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					o := paho.NewClientOptions().AddBroker(url).SetClientID(id).
						SetTLSConfig(&tls.Config{RootCAs: p.pool, Certificates: []tls.Certificate{cert}, ServerName: "localhost"}).
						SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(5 * time.Second).SetProtocolVersion(4)
					c := paho.NewClient(o)
					if tok := c.Connect(); tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
						mu.Lock()
						connects++
						mu.Unlock()
					}
					c.Disconnect(0)
				}
			}()
		}
		await.True(t, 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return connects >= 40 }, "round %d: devices never connected", round)
		closed := make(chan struct{})
		go func() { b.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: broker Close hung with devices coming and going", round)
		}
		close(stop)
		wg.Wait()
	}
}
