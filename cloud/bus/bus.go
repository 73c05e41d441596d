// Package bus is how the cloud speaks MQTT, whichever broker carries it:
// the embedded broker's inline client (Embedded) or a client connection to
// an external broker such as Mosquitto (External). The ingest and the
// device registry see only Bus.
package bus

import (
	"context"

	"timeclock/cloud/broker"
)

// Handler receives one message. It runs on the bus's delivery goroutine
// for that message, so its time is the sender's backpressure; the message
// counts as delivered (PUBACK to an external broker) when it returns.
type Handler func(topic string, payload []byte)

// Bus publishes to clocks and subscribes to what they send. Publishes are
// QoS 1.
type Bus interface {
	Publish(ctx context.Context, topic string, payload []byte, retain bool) error
	Subscribe(filter string, h Handler) error
}

// Embedded is the embedded broker's inline client.
type Embedded struct{ B *broker.Broker }

var _ Bus = Embedded{}

// Publish sends from the cloud through the broker.
func (e Embedded) Publish(_ context.Context, topic string, payload []byte, retain bool) error {
	return e.B.Publish(topic, payload, retain)
}

// Subscribe delivers matching messages to h in the publishing clock's
// goroutine.
func (e Embedded) Subscribe(filter string, h Handler) error { return e.B.Subscribe(filter, h) }
