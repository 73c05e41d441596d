package mqttlink

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"timeclock/wire"
)

func TestBrokerURL(t *testing.T) {
	ep := wire.Endpoints{TLS: "cloud.example:59777", WebSocket: "wss://cloud.example:59778/mqtt"}
	for _, tc := range []struct {
		ep   wire.Endpoints
		t    Transport
		want string
		bad  bool
	}{
		{ep, TLS, "mqtts://cloud.example:59777", false},
		{ep, WSS, "wss://cloud.example:59778/mqtt", false},
		{wire.Endpoints{}, TLS, "", true},
		{wire.Endpoints{}, WSS, "", true},
		{wire.Endpoints{WebSocket: "https://cloud.example/mqtt"}, WSS, "", true},
		{wire.Endpoints{WebSocket: "wss:///mqtt"}, WSS, "", true},
	} {
		got, err := BrokerURL(tc.ep, tc.t)
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("BrokerURL(%+v, %s) = %q, %v", tc.ep, tc.t, got, err)
		}
	}
}

func TestRefusal(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{packets.ErrorRefusedNotAuthorised, true},
		{fmt.Errorf("connect: %w", packets.ErrorRefusedBadUsernameOrPassword), true},
		{packets.ErrorRefusedIDRejected, true},
		{errors.New("network Error : remote error: tls: bad certificate"), true},
		{errors.New("network Error : remote error: tls: certificate revoked"), true},
		{errors.New("network Error : dial tcp 127.0.0.1:1: connect: connection refused"), false},
		{errors.New("network Error : i/o timeout"), false},
		{packets.ErrorRefusedServerUnavailable, false},
	} {
		if got := refusal(tc.err); got != tc.want {
			t.Errorf("refusal(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if TLS.Other() != WSS || WSS.Other() != TLS || TLS.String() != "tls" || WSS.String() != "wss" {
		t.Error("transport names")
	}
}
