package journal

import (
	"context"
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/internal/await"
)

func probe(j *Journal, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return j.Probe(ctx)
}

// A writer stuck in a commit (here: waiting for bbolt's write lock, as it
// would wait for a disk that hangs) stops answering probes; once the commit
// goes through, it answers again and the punch is there.
func TestProbeFailsWhileTheWriterHangs(t *testing.T) {
	st, j := openJournal(t, t.TempDir(), Options{})
	if err := probe(j, 5*time.Second); err != nil {
		t.Fatalf("idle writer: %v", err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	go st.DB().Update(func(*bolt.Tx) error { close(held); <-release; return nil })
	<-held
	appended := make(chan error, 1)
	go func() { _, err := j.Append(punch("E1", KindIn, t0)); appended <- err }()
	await.True(t, 5*time.Second, func() bool {
		return errors.Is(probe(j, 20*time.Millisecond), context.DeadlineExceeded)
	}, "probes kept being answered while the writer was stuck in a commit")
	close(release)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	if err := probe(j, 5*time.Second); err != nil {
		t.Fatalf("after the commit: %v", err)
	}
	if j.Pending() != 1 {
		t.Errorf("pending = %d, want 1", j.Pending())
	}
	j.Close()
	if err := probe(j, time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("closed journal: %v, want ErrClosed", err)
	}
}
