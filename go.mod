module timeclock

go 1.25.0

require (
	github.com/emersion/go-sasl v0.0.0-20241020182733-b788ff22d5a6
	github.com/emersion/go-smtp v0.24.0
	go.bug.st/serial v1.8.0
	go.etcd.io/bbolt v1.5.0
	golang.org/x/crypto v0.43.0
	golang.org/x/sys v0.45.0
	golang.org/x/term v0.36.0
)
