package bus

import (
	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// NoStore is a paho Store that keeps nothing. With a persistent session
// paho replays its store after every reconnection ("resume"), and in
// v1.5.1 a message published while that replay runs (from OnConnect, say)
// is both sent twice and raced on (client.go resume sets Dup on a packet
// the writer is sending). Nothing here needs paho's replay: the cloud's
// commands wait in its outbox and acks are sent again when a clock resends,
// and a clock's journal is its outbox.
type NoStore struct{}

var _ paho.Store = NoStore{}

func (NoStore) Open()                             {}
func (NoStore) Put(string, packets.ControlPacket) {}
func (NoStore) Get(string) packets.ControlPacket  { return nil }
func (NoStore) All() []string                     { return nil }
func (NoStore) Del(string)                        {}
func (NoStore) Close()                            {}
func (NoStore) Reset()                            {}
