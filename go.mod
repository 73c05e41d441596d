module timeclock

go 1.25.0

require (
	go.bug.st/serial v1.8.0
	golang.org/x/crypto v0.43.0
	golang.org/x/sys v0.45.0
	golang.org/x/term v0.36.0
	periph.io/x/conn/v3 v3.7.3
	periph.io/x/devices/v3 v3.7.4
	periph.io/x/host/v3 v3.8.5
)

require github.com/jonboulle/clockwork v0.5.0 // indirect
