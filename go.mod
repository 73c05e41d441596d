module timeclock

go 1.25.0

require (
	golang.org/x/sys v0.45.0
	golang.org/x/term v0.36.0
)

require go.etcd.io/bbolt v1.5.0
