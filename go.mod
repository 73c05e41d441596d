module timeclock

go 1.25.0

require (
	go.bug.st/serial v1.8.0
	golang.org/x/crypto v0.43.0
	golang.org/x/sys v0.45.0
	golang.org/x/term v0.36.0
)

require go.etcd.io/bbolt v1.5.0
