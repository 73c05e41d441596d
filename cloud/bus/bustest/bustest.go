// Package bustest is a bus.Bus for tests: it records what is published and
// delivers what the test sends to the subscribed handlers, synchronously.
package bustest

import (
	"context"
	"strings"
	"sync"

	"timeclock/cloud/bus"
)

// Message is one publish.
type Message struct {
	Topic   string
	Payload []byte
	Retain  bool
}

type sub struct {
	filter string
	h      bus.Handler
}

// Bus records publishes and holds subscriptions.
type Bus struct {
	mu   sync.Mutex
	subs []sub
	pubs []Message
	fail error
}

var _ bus.Bus = (*Bus)(nil)

// Publish records the message (or returns the error set by FailPublishes).
func (b *Bus) Publish(_ context.Context, topic string, payload []byte, retain bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return b.fail
	}
	b.pubs = append(b.pubs, Message{topic, append([]byte(nil), payload...), retain})
	return nil
}

// Subscribe adds a handler.
func (b *Bus) Subscribe(filter string, h bus.Handler) error {
	b.mu.Lock()
	b.subs = append(b.subs, sub{filter, h})
	b.mu.Unlock()
	return nil
}

// FailPublishes makes publishes fail with err (nil: succeed again).
func (b *Bus) FailPublishes(err error) {
	b.mu.Lock()
	b.fail = err
	b.mu.Unlock()
}

// Deliver hands a message to every matching handler and returns how many.
func (b *Bus) Deliver(topic string, payload []byte) int {
	b.mu.Lock()
	var hs []bus.Handler
	for _, s := range b.subs {
		if Match(s.filter, topic) {
			hs = append(hs, s.h)
		}
	}
	b.mu.Unlock()
	for _, h := range hs {
		h(topic, payload)
	}
	return len(hs)
}

// Published returns the messages published to topic, in order.
func (b *Bus) Published(topic string) []Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []Message
	for _, m := range b.pubs {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

// Reset forgets what was published.
func (b *Bus) Reset() {
	b.mu.Lock()
	b.pubs = nil
	b.mu.Unlock()
}

// Match reports whether an MQTT topic filter (+ and #) matches topic.
func Match(filter, topic string) bool {
	fs, ts := strings.Split(filter, "/"), strings.Split(topic, "/")
	for i, f := range fs {
		if f == "#" {
			return true
		}
		if i >= len(ts) || (f != "+" && f != ts[i]) {
			return false
		}
	}
	return len(fs) == len(ts)
}
