package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"timeclock/cloud"
	"timeclock/cloud/mosquitto"
	"timeclock/cloud/pki"
)

// mosquittoConfig is "timeclock-cloud mosquitto-config": it writes a
// Mosquitto 2.0 directory for the cloud's CA and the cloud's client
// certificate, then prints how to run both. It returns the exit code.
func mosquittoConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("timeclock-cloud mosquitto-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "/var/lib/timeclock-cloud", "the cloud's data directory (its CA; the cloud's client certificate goes here)")
	out := fs.String("out", "", "directory for mosquitto.conf, certificates, acl and crl.pem (default DATA/mosquitto)")
	tlsAddr := fs.String("mqtt", cloud.MQTTAddr, "MQTT over TLS listener of the broker")
	wsAddr := fs.String("mqtt-ws", cloud.MQTTWSAddr, "MQTT over secure WebSocket listener of the broker")
	hosts := fs.String("public-host", "localhost", "names clocks use for the broker, comma-separated (its certificate)")
	user := fs.String("user", "", `Mosquitto's "user" option (default: Mosquitto's, "mosquitto")`)
	createCA := fs.Bool("create-ca", false, "create the cloud's CA in DATA if there is none")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "timeclock-cloud mosquitto-config: unexpected argument", fs.Arg(0))
		return 2
	}
	if *out == "" {
		*out = filepath.Join(*data, "mosquitto")
	}
	now := time.Now()
	if err := os.MkdirAll(*data, 0o700); err != nil {
		fmt.Fprintln(stderr, "timeclock-cloud mosquitto-config:", err)
		return 1
	}
	ca, _, err := pki.LoadOrCreate(*data, "timeclock cloud CA", *createCA, now)
	if err != nil {
		fmt.Fprintf(stderr, "timeclock-cloud mosquitto-config: %v (give --create-ca to make one)\n", err)
		return 1
	}
	var hs []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hs = append(hs, h)
		}
	}
	hs = append(hs, "localhost", "127.0.0.1")
	cfg := mosquitto.Config{Dir: *out, TLSAddr: *tlsAddr, WSAddr: *wsAddr, Hosts: hs, User: *user}
	if err := mosquitto.Generate(ca, cfg, now); err != nil {
		fmt.Fprintln(stderr, "timeclock-cloud mosquitto-config:", err)
		return 1
	}
	if err := mosquitto.WriteClientCert(ca, *data, now); err != nil {
		fmt.Fprintln(stderr, "timeclock-cloud mosquitto-config:", err)
		return 1
	}
	abs, _ := filepath.Abs(*out)
	_, tlsPort, _ := net.SplitHostPort(*tlsAddr)
	fmt.Fprintf(stdout, "mosquitto config written to %s\n", abs)
	fmt.Fprintf(stdout, "cloud client certificate: %s\n", filepath.Join(*data, mosquitto.ClientFile))
	fmt.Fprintf(stdout, "run the broker:  mosquitto -c %s\n", filepath.Join(abs, mosquitto.ConfFile))
	fmt.Fprintf(stdout, "run the cloud:   timeclock-cloud --data %s --mqtt-broker mqtts://%s:%s --mosquitto-dir %s --mosquitto-pid %s --mqtt %s --mqtt-ws %s ...\n",
		*data, hs[0], tlsPort, abs, filepath.Join(abs, mosquitto.PIDFile), *tlsAddr, *wsAddr)
	return 0
}
