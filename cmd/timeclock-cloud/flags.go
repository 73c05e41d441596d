package main

import (
	"flag"
	"log/slog"

	"timeclock/internal/cli"
)

// flags are the command line; set says which were given, so the dev and
// production defaults can differ.
type flags struct {
	version      bool
	dev          bool
	data         string
	http         string
	https        string
	mqtt         string
	mqttWS       string
	publicHost   string
	createCA     bool
	releaseKeys  listFlag
	smtpHost     string
	smtpPort     int
	smtpTLS      string
	smtpUser     string
	smtpPassFile string
	smtpCA       string
	mailFrom     string
	demoCompany  string
	smsURL       string
	smsUser      string
	smsTokenFile string
	smsFrom      string
	logLevel     string
	logFile      string
	mqttBroker   string
	mqttCert     string
	mqttKey      string
	mqttBrokerCA string
	mosqDir      string
	mosqPID      string
	mqttEndpoint string
	mqttWSEndpt  string
	level        slog.Level
	set          map[string]bool
}

// PasswordEnv holds the SMTP password when no --smtp-password-file is
// given. There is deliberately no password flag: flags show in ps.
const PasswordEnv = "TIMECLOCK_SMTP_PASSWORD"

// SMSTokenEnv holds the SMS provider's token when no --sms-token-file is
// given; like the SMTP password, never a flag.
const SMSTokenEnv = "TIMECLOCK_SMS_TOKEN"

func parseFlags(args []string) (*flags, error) {
	var f flags
	fs := flag.NewFlagSet("timeclock-cloud", flag.ContinueOnError)
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.dev, "dev", false, "dev mode: dev CA, demo company, mail to DATA/outbox and the output, high loopback ports")
	fs.StringVar(&f.data, "data", "", "data directory (default /var/lib/timeclock-cloud; --dev: run/cloud)")
	fs.StringVar(&f.http, "http", "", "plain HTTP listen address: reachability and time (default :80; --dev: 127.0.0.1:18080)")
	fs.StringVar(&f.https, "https", "", "HTTPS API listen address (default :443; --dev: 127.0.0.1:18443)")
	fs.StringVar(&f.mqtt, "mqtt", "", "MQTT over TLS listen address (default :59777; --dev: 127.0.0.1:19777)")
	fs.StringVar(&f.mqttWS, "mqtt-ws", "", "MQTT over secure WebSocket listen address (default :59778; --dev: 127.0.0.1:19778)")
	fs.StringVar(&f.publicHost, "public-host", "localhost", "host name clocks use for this cloud (server certificate, MQTT endpoints)")
	fs.BoolVar(&f.createCA, "create-ca", false, "create a CA in the data directory if there is none (--dev implies it)")
	fs.Var(&f.releaseKeys, "release-key", "a release public key (base64) uploads must be signed with; repeat for more (--dev adds the development key)")
	fs.StringVar(&f.smtpHost, "smtp-host", "", "SMTP server for the code mails (required without --dev)")
	fs.IntVar(&f.smtpPort, "smtp-port", 587, "SMTP port")
	fs.StringVar(&f.smtpTLS, "smtp-tls", "starttls", "SMTP security: starttls, tls (implicit, port 465) or none")
	fs.StringVar(&f.smtpUser, "smtp-user", "", "SMTP AUTH PLAIN user; the password comes from --smtp-password-file or $"+PasswordEnv)
	fs.StringVar(&f.smtpPassFile, "smtp-password-file", "", "file holding the SMTP password")
	fs.StringVar(&f.smtpCA, "smtp-ca", "", "PEM file of CAs to trust for the SMTP server (default: system roots)")
	fs.StringVar(&f.mailFrom, "mail-from", "", `From address of the mails (default "Timeclock Cloud <noreply@PUBLIC-HOST>")`)
	fs.StringVar(&f.smsURL, "sms-url", "", "SMS provider's HTTP API: one JSON POST per text (see docs/admin.md); none: no SMS (--dev: DATA/sms-outbox)")
	fs.StringVar(&f.smsUser, "sms-user", "", "SMS provider account for HTTP Basic auth; without it the token is sent as a Bearer token")
	fs.StringVar(&f.smsTokenFile, "sms-token-file", "", "file holding the SMS provider's token; otherwise $"+SMSTokenEnv)
	fs.StringVar(&f.smsFrom, "sms-from", "", "sending number or sender ID, passed to the provider as \"from\"")
	fs.StringVar(&f.demoCompany, "demo-company", "", "--dev: the demo company's ID on first start (default random, 6 digits)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFile, "log-file", "", "write the log to this file (default stderr)")
	fs.StringVar(&f.mqttBroker, "mqtt-broker", "", "use an external MQTT broker (mqtts://host:port or wss://host:port/path) instead of the embedded one")
	fs.StringVar(&f.mqttCert, "mqtt-client-cert", "", "the cloud's client certificate at the external broker (default DATA/mqtt-client.pem)")
	fs.StringVar(&f.mqttKey, "mqtt-client-key", "", "its key (default DATA/mqtt-client-key.pem)")
	fs.StringVar(&f.mqttBrokerCA, "mqtt-broker-ca", "", "PEM CAs for the external broker's certificate (default DATA/ca.pem)")
	fs.StringVar(&f.mosqDir, "mosquitto-dir", "", "the external Mosquitto's directory (from mosquitto-config): its acl and crl.pem are kept in step with disabled clocks")
	fs.StringVar(&f.mosqPID, "mosquitto-pid", "", "Mosquitto's pid file; sent SIGHUP after the acl or crl.pem changed")
	fs.StringVar(&f.mqttEndpoint, "mqtt-endpoint", "", "MQTT over TLS endpoint handed to clocks, host:port (default PUBLIC-HOST and the --mqtt port)")
	fs.StringVar(&f.mqttWSEndpt, "mqtt-ws-endpoint", "", "MQTT over secure WebSocket endpoint handed to clocks, wss://host:port/mqtt (default PUBLIC-HOST and the --mqtt-ws port)")
	set, err := cli.Parse(fs, "usage: timeclock-cloud [flags]\n       timeclock-cloud mosquitto-config [flags]   (see timeclock-cloud mosquitto-config -h)\n       timeclock-cloud company add | user add|password|role | role add | token add [flags]   (set-up; docs/cloud.md)\n", args)
	if err != nil {
		return nil, err
	}
	if f.level, err = cli.Level(fs.Name(), f.logLevel); err != nil {
		return nil, err
	}
	f.set = set
	return &f, nil
}
