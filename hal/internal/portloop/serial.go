package portloop

import (
	"fmt"

	"go.bug.st/serial"
)

// OpenSerial opens a serial port at baud, 8N1, with no modem-line ioctls
// (they fail on ptys and some USB adapters): the badge readers' and the
// fingerprint module's ports.
func OpenSerial(port string, baud int) (serial.Port, error) {
	p, err := serial.Open(port, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", port, err)
	}
	return p, nil
}
