// Package archtest holds the layering test: every package of this module,
// with all it reaches transitively, must keep to the allow-list in
// [layers], written in the style of Go's own go/build/deps_test.go.
package archtest

// layers is the allow-list. "a, b < c, d;" says that c and d may depend on
// a and b and on everything a and b may depend on. A name is one of:
//
//   - a package path of this module, relative to its root ("wire"), or a
//     subtree ("cloud/..."): the package and everything under it;
//   - a group in capitals (DRIVERS): a name for what its rule lists, or,
//     declared as "GROUP = a, b;", one name for several packages, which
//     may then import each other;
//   - a third-party path, whose first element has a dot ("periph.io/x/conn/v3/...").
//
// Every package of ours belongs to the most specific name that matches it,
// and a package not matched by any name fails the test: a new package has
// to be placed in a layer. Packages under one name may import each other.
// The standard library is always allowed. Our packages are checked with
// everything they reach (go list -deps); third-party imports are checked
// where they are made, so each is allowed in the layer that uses it.
//
// Tests (_test.go files) are free to import test support; product
// packages never reach it, because no product layer lists TESTSUPPORT.
const layers = `
# The bottom: the clock's and the cloud's shared types, the time source and
# writing a file atomically import nothing of ours.
NONE < wire;
golang.org/x/sys/unix < clock;
NONE < internal/atomicfile;
# The clock's HTTP/1.1 client (one request per connection).
NONE < internal/httpc;

# The update artifact (manifest, signature, version order): the signing
# tool, the cloud and the clock share it.
NONE < release;

# Hardware: the interfaces, what drivers share, one package per chip, and
# the board that picks drivers. Host driver init and pin lookups happen only in
# board (and cmd).
NONE < hal;
hal, periph.io/x/conn/v3/..., go.bug.st/serial < hal/internal/...;
hal, hal/internal/...,
  periph.io/x/conn/v3/...,
  periph.io/x/devices/v3/...,
  go.bug.st/serial,
  golang.org/x/sys/unix,
  golang.org/x/term
< hal/em4100, hal/evdev, hal/fingerprint, hal/hd44780, hal/ledbuzzer, hal/matrix,
  hal/mfrc522, hal/ssd1306, hal/wiegand;
# The simulated fingerprint module speaks the driver's protocol; the sim
# board puts it behind the real driver.
hal/fingerprint < hal/fingerprint/fpsim;
hal/em4100, hal/evdev, hal/fingerprint, hal/fingerprint/fpsim, hal/hd44780,
  hal/ledbuzzer, hal/matrix, hal/mfrc522, hal/ssd1306, hal/wiegand,
  golang.org/x/sys/unix, golang.org/x/term
< hal/sim;
hal/em4100, hal/evdev, hal/fingerprint, hal/fingerprint/fpsim, hal/hd44780,
  hal/ledbuzzer, hal/matrix, hal/mfrc522, hal/sim, hal/ssd1306, hal/wiegand
< DRIVERS;
DRIVERS, periph.io/x/host/v3/... < board;

# The clock's durable state: one bbolt file, the punches and the roster in it.
wire, clock, go.etcd.io/bbolt/... < agent/store;
agent/store < agent/journal, agent/roster, agent/fingers;

# The punch flow is pure: the hal's event types and the journal's punch types.
hal, agent/journal < agent/punchflow;
hal < agent/enrollflow;

# The out-of-service mode (systemd gave up on the agent) knows only the
# devices and a clock: it never reaches the state it may not trust.
# Reading an input device until it is halted: the agent's loop, which the
# out-of-service mode shares.
hal, clock < agent/inputloop;
hal, clock, agent/inputloop < agent/outofservice;

# Onboarding is below the agent: the agent starts it.
wire, clock, internal/atomicfile, golang.org/x/crypto/... < onboarding/identity;
clock, wire, internal/httpc < onboarding/netcheck;
hal, onboarding/identity, onboarding/netcheck < onboarding;

# The agent and its parts: sync, console, the punch loop.
onboarding, agent/punchflow, agent/enrollflow, agent/inputloop, agent/journal, agent/roster, agent/fingers, release,
  github.com/eclipse/paho.mqtt.golang/...,
  golang.org/x/crypto/...
< agent/...;

# The reference cloud shares only the wire types with the device.
wire, clock, internal/atomicfile, release,
  go.etcd.io/bbolt/...,
  golang.org/x/crypto/...,
  github.com/mochi-mqtt/server/v2/...,
  github.com/gorilla/websocket,
  github.com/eclipse/paho.mqtt.golang/...
< cloud/...;

# The commands wire it all together; under systemd they speak sd_notify and
# log in the journal's terms.
NONE < internal/cli, internal/sdnotify;
golang.org/x/sys/unix < internal/journald;
agent/..., agent/outofservice, board, internal/cli, internal/sdnotify, internal/journald, go.bug.st/serial, golang.org/x/sys/unix, golang.org/x/term
< cmd/timeclockd;
cloud/..., internal/cli, internal/sdnotify, internal/journald < cmd/timeclock-cloud;

# Tools the Makefile runs.
NONE < scripts/...;

# The booted-Linux tier's scenarios: a package of tests only.
NONE < packaging/booted;

# Test support: fakes, doubles, harnesses. They may use anything above and
# each other; nothing above may reach them.
TESTSUPPORT = internal/archtest, internal/await, internal/browsertest,
  internal/daemontest, internal/e2e/..., internal/fakecloud, internal/latency, internal/punchcheck,
  internal/syncbuf, internal/tcprelay, internal/testenv, internal/testpki, internal/tmuxtest,
  internal/vmtest/...,
  hal/haltest, hal/hd44780/hd44780test, hal/matrix/matrixtest,
  hal/mfrc522/mfrc522test, hal/ssd1306/ssd1306test,
  cloud/synctest, cloud/store/storetest, cloud/notify/smtptest,
  cloud/mosquitto/mosquittotest, cloud/bus/bustest, cloud/internal/recv;
cmd/timeclockd, cmd/timeclock-cloud,
  periph.io/x/conn/v3/...,
  github.com/emersion/...,
  github.com/chromedp/...
< TESTSUPPORT;
`
