package cloudsync

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
		t    transport
		want string
		bad  bool
	}{
		{ep, viaTLS, "mqtts://cloud.example:59777", false},
		{ep, viaWSS, "wss://cloud.example:59778/mqtt", false},
		{wire.Endpoints{}, viaTLS, "", true},
		{wire.Endpoints{}, viaWSS, "", true},
		{wire.Endpoints{WebSocket: "https://cloud.example/mqtt"}, viaWSS, "", true},
		{wire.Endpoints{WebSocket: "wss:///mqtt"}, viaWSS, "", true},
	} {
		got, err := brokerURL(tc.ep, tc.t)
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("brokerURL(%+v, %s) = %q, %v", tc.ep, tc.t, got, err)
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
	if viaTLS.Other() != viaWSS || viaWSS.Other() != viaTLS || viaTLS.String() != "tls" || viaWSS.String() != "wss" {
		t.Error("transport names")
	}
}
