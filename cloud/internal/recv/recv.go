// Package recv collects MQTT messages for tests of the brokers.
package recv

import (
	"strings"
	"sync"
)

// Inbox collects what a subscription receives, as "topic payload" lines;
// its Add is the handler to subscribe.
type Inbox struct {
	mu  sync.Mutex
	got []string
}

// Add records one message.
func (i *Inbox) Add(topic string, payload []byte) {
	i.mu.Lock()
	i.got = append(i.got, topic+" "+string(payload))
	i.mu.Unlock()
}

// Has reports whether the line "topic payload" s was received.
func (i *Inbox) Has(s string) bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, g := range i.got {
		if g == s {
			return true
		}
	}
	return false
}

// All is every line received, for failure messages.
func (i *Inbox) All() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return strings.Join(i.got, "\n")
}
