package cloud

import (
	"log/slog"
	"strings"
	"testing"
	"timeclock/cloud/store"

	"timeclock/cloud/notify"
)

// TestStoredSettings: the mail server and SMS provider kept in the store
// fill what the flags left out, a whole section at a time, and the cloud
// outside --dev needs a mail server from one or the other.
func TestStoredSettings(t *testing.T) {
	prod := DefaultConfig(false)
	if err := prod.checkMail(); err == nil || !strings.Contains(err.Error(), "mail set") {
		t.Errorf("no mail server anywhere: %v", err)
	}
	s := store.Settings{
		SMTP: store.SMTPSettings{Host: "smtp.acme.example", User: "clocks", Password: "pw", CAPEM: "PEM", From: "Acme <c@acme.example>"},
		SMS:  store.SMSSettings{URL: "https://sms.example/send", Token: "tok", From: "+15550100"},
	}
	c := prod.withSettings(s)
	if c.SMTP.Host != "smtp.acme.example" || c.SMTP.Port != 587 || c.SMTP.TLS != notify.StartTLS || c.SMTP.Password != "pw" ||
		string(c.SMTPCAPEM) != "PEM" || c.MailFrom != "Acme <c@acme.example>" || c.SMS.URL != "https://sms.example/send" || c.SMS.Token != "tok" {
		t.Errorf("from the store: %+v", c)
	}
	if err := c.checkMail(); err != nil {
		t.Errorf("stored mail: %v", err)
	}
	flags := prod
	flags.SMTP.Host, flags.SMTP.User, flags.SMTP.Password = "flag.example", "u", "flagpw"
	c = flags.withSettings(s)
	if c.SMTP.Host != "flag.example" || c.SMTP.Password != "flagpw" || len(c.SMTPCAPEM) != 0 || c.MailFrom != "" {
		t.Errorf("the flag's server mixed with the stored one: %+v", c)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		dev  bool
		want string // "" valid
	}{
		{"dev defaults", func(*Config) {}, true, ""},
		{"production without smtp flags (the store may have it)", func(*Config) {}, false, ""},
		{"production with smtp", func(c *Config) { c.SMTP.Host = "smtp.example.com" }, false, ""},
		{"smtp user without password", func(c *Config) { c.SMTP.Host, c.SMTP.User = "smtp.example.com", "u" }, false, "password"},
		{"smtp user with password", func(c *Config) {
			c.SMTP.Host, c.SMTP.User, c.SMTP.Password = "smtp.example.com", "u", notify.Secret("p")
		}, false, ""},
		{"bad address", func(c *Config) { c.HTTPSAddr = "443" }, true, "https"},
		{"bad port", func(c *Config) { c.MQTTAddr = ":99999" }, true, "mqtt"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, true, "data"},
		{"no public host", func(c *Config) { c.PublicHost = "" }, true, "public-host"},
		{"bad from", func(c *Config) { c.MailFrom = "not an address" }, true, "mail-from"},
		{"external broker", func(c *Config) { c.MQTTBroker = "mqtts://broker.example:59777" }, true, ""},
		{"external broker, bad scheme", func(c *Config) { c.MQTTBroker = "tcp://broker.example:1883" }, true, "mqtt-broker"},
		{"external broker, port 0 endpoints", func(c *Config) { c.MQTTBroker, c.MQTTAddr = "mqtts://b:1", "127.0.0.1:0" }, true, "mqtt-endpoint"},
		{"external broker, endpoints given", func(c *Config) {
			c.MQTTBroker, c.MQTTAddr, c.MQTTWSAddr = "mqtts://b:1", "127.0.0.1:0", "127.0.0.1:0"
			c.DeviceMQTT, c.DeviceMQTTWS = "b:59777", "wss://b:59778/mqtt"
		}, true, ""},
		{"mosquitto dir without broker", func(c *Config) { c.MosquittoDir = "/x" }, true, "only with --mqtt-broker"},
		{"pid without dir", func(c *Config) { c.MQTTBroker, c.MosquittoPIDFile = "mqtts://b:1", "/x.pid" }, true, "mosquitto-pid"},
		{"bad ws endpoint", func(c *Config) { c.DeviceMQTTWS = "https://b/mqtt" }, true, "mqtt-ws-endpoint"},
		{"demo company outside dev", func(c *Config) { c.SMTP.Host, c.DemoCompanyID = "smtp.example.com", "123456" }, false, "only with --dev"},
		{"demo company letters", func(c *Config) { c.DemoCompanyID = "12ab34" }, true, "4 to 12 digits"},
		{"demo company ok", func(c *Config) { c.DemoCompanyID = "123456" }, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig(tc.dev)
			tc.mod(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestDefaultPorts(t *testing.T) {
	p, d := DefaultConfig(false), DefaultConfig(true)
	if p.HTTPAddr != ":80" || p.HTTPSAddr != ":443" || p.MQTTAddr != ":59777" || p.MQTTWSAddr != ":59778" {
		t.Errorf("production ports %+v", p)
	}
	if d.HTTPAddr != "127.0.0.1:18080" || d.HTTPSAddr != "127.0.0.1:18443" || d.MQTTAddr != "127.0.0.1:19777" || d.MQTTWSAddr != "127.0.0.1:19778" {
		t.Errorf("dev ports %+v", d)
	}
}

func TestServerErrorsHandshakeNoiseIsDebug(t *testing.T) {
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := serverErrors{log}
	w.Write([]byte("http: TLS handshake error from 127.0.0.1:5000: EOF\n"))
	w.Write([]byte("http: Accept error: too many open files\n"))
	out := b.String()
	if !strings.Contains(out, `level=DEBUG msg="http: TLS handshake error`) || !strings.Contains(out, `level=WARN msg="http: Accept error`) {
		t.Fatalf("levels:\n%s", out)
	}
}
