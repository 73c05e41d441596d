package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"timeclock/agent/store"
)

// Errors callers decide on with errors.Is.
var (
	// ErrFull: the pending punches reached capacity. Nothing was written;
	// no older punch is ever overwritten to make room.
	ErrFull = errors.New("journal: storage full")
	// ErrClosed: the journal was closed.
	ErrClosed = errors.New("journal: closed")
)

// Options configure a journal.
type Options struct {
	Logger *slog.Logger
	// Capacity is how many punches may be pending (default 200,000).
	Capacity int
	// Retention is how long acked punches are kept (default 30 days).
	Retention time.Duration
}

// Defaults for Options.
const (
	DefaultCapacity  = 200_000
	DefaultRetention = 30 * 24 * time.Hour
	// WarnFill is the fill level from which the clock warns.
	WarnFill = 0.8
	// maxBatch bounds one group commit.
	maxBatch = 1024
)

// Journal is the open punch journal. Its methods are safe for concurrent use.
type Journal struct {
	db    *bolt.DB
	log   *slog.Logger
	opts  Options
	nonce [8]byte

	reqs    chan *appendReq
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once

	pending    atomic.Int64 // mirrors meta/pending after each commit
	unsetClock atomic.Int64 // mirrors meta/unset_clock
	lastSeq    atomic.Uint64

	mu          sync.Mutex
	lastUsedBy  string    // guarded by mu
	fillWarned  bool      // guarded by mu: the storage warning was logged
	lastCompact time.Time // guarded by mu: when Maintain last compacted
}

type appendReq struct {
	ps   []Punch
	out  []Punch
	err  error
	done chan struct{}
}

// Open starts the journal on an open store. It reads only the meta bucket,
// so opening a journal with 200,000 pending punches touches a few pages.
func Open(st *store.Store, o Options) (*Journal, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Capacity <= 0 {
		o.Capacity = DefaultCapacity
	}
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	j := &Journal{
		db: st.DB(), log: o.Logger, opts: o,
		reqs: make(chan *appendReq), quit: make(chan struct{}), stopped: make(chan struct{}),
	}
	var salvaged bool
	j.db.View(func(tx *bolt.Tx) error {
		salvaged = tx.Bucket(store.BucketMeta).Get(store.KeyRebuild) != nil
		return nil
	})
	if salvaged { // once after a salvage: no write at every start
		if err := j.db.Update(rebuild); err != nil {
			return nil, fmt.Errorf("journal: recount after salvage: %w", err)
		}
	}
	err := j.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(store.BucketMeta)
		copy(j.nonce[:], meta.Get(store.KeyNonce))
		seq, _ := store.Uint(meta.Get(store.KeyLastSeq))
		pend, _ := store.Uint(meta.Get(store.KeyPending))
		unset, _ := store.Uint(meta.Get(store.KeyUnsetClock))
		j.lastSeq.Store(seq)
		j.pending.Store(int64(pend))
		j.unsetClock.Store(int64(unset))
		j.lastUsedBy = string(meta.Get(store.KeyLastUsedBy))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("journal: open: %w", err)
	}
	go j.writer()
	return j, nil
}

// Close stops the writer after the appends already handed to it.
func (j *Journal) Close() error {
	j.once.Do(func() { close(j.quit) })
	<-j.stopped
	return nil
}

// Append records p durably: it returns only after the punch is fsynced,
// with ID, Seq and State filled in. Concurrent appends share one
// transaction and one fsync (group commit). ErrFull refuses the punch.
func (j *Journal) Append(p Punch) (Punch, error) {
	out, err := j.AppendBatch([]Punch{p})
	if err != nil {
		return Punch{}, err
	}
	return out[0], nil
}

// AppendBatch records several punches in one transaction, all or nothing.
func (j *Journal) AppendBatch(ps []Punch) ([]Punch, error) {
	if len(ps) == 0 {
		return nil, nil // a request without punches is a probe to the writer
	}
	for _, p := range ps {
		if _, err := encode(p); err != nil {
			return nil, err
		}
	}
	r := &appendReq{ps: ps, done: make(chan struct{})}
	select {
	case j.reqs <- r:
	case <-j.quit:
		return nil, ErrClosed
	}
	<-r.done
	return r.out, r.err
}

// Probe returns once the writer takes a request, which it does only between
// commits: an answer proves the writer is not stuck in one (a disk that
// hangs an fsync). It returns ctx's error when ctx ends first, ErrClosed
// after Close. The watchdog's liveness check asks it.
func (j *Journal) Probe(ctx context.Context) error {
	r := &appendReq{done: make(chan struct{})}
	select {
	case j.reqs <- r:
	case <-j.quit:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("journal: writer busy: %w", ctx.Err())
	}
	<-r.done // answered as soon as it is taken
	return nil
}

// writer is the one goroutine that writes punches: it takes every append
// waiting and commits them together. A request without punches is a probe:
// it is answered when taken.
func (j *Journal) writer() {
	defer close(j.stopped)
	batch := make([]*appendReq, 0, 64)
	for {
		batch = batch[:0]
		select {
		case r := <-j.reqs:
			if len(r.ps) == 0 {
				close(r.done)
				continue
			}
			batch = append(batch, r)
		case <-j.quit:
			return
		}
		n := len(batch[0].ps)
	drain:
		for n < maxBatch {
			select {
			case r := <-j.reqs:
				if len(r.ps) == 0 {
					close(r.done)
					continue
				}
				batch = append(batch, r)
				n += len(r.ps)
			default:
				break drain
			}
		}
		j.commit(batch)
		for _, r := range batch {
			close(r.done)
		}
	}
}

func seqKey(seq uint64) []byte { return store.PutUint(seq) }

// commit writes a batch in one bbolt transaction; bbolt fsyncs on commit.
// A request that would pass capacity fails alone with ErrFull.
func (j *Journal) commit(batch []*appendReq) {
	var lastUsedBy string
	var seq, pend, unset uint64
	err := j.db.Update(func(tx *bolt.Tx) error {
		meta := tx.Bucket(store.BucketMeta)
		pb := tx.Bucket(store.BucketPunchesPending)
		pb.FillPercent = 1 // keys only ever grow: pack pages full
		ub := tx.Bucket(store.BucketUnsetClock)
		ub.FillPercent = 1
		lb := tx.Bucket(store.BucketLastPunch)
		seq, _ = store.Uint(meta.Get(store.KeyLastSeq))
		pend, _ = store.Uint(meta.Get(store.KeyPending))
		unset, _ = store.Uint(meta.Get(store.KeyUnsetClock))
		for _, r := range batch {
			if pend+uint64(len(r.ps)) > uint64(j.opts.Capacity) {
				r.err = ErrFull
				continue
			}
			r.out = make([]Punch, len(r.ps))
			for i, p := range r.ps {
				seq++
				p.Seq, p.ID, p.State, p.AckedAt = seq, makeID(j.nonce, seq), StatePending, time.Time{}
				p.Time = p.Time.UTC().Truncate(time.Millisecond)
				if p.Source == "" {
					p.Source = legacySource(p.ClockSet)
				}
				rec, err := encode(p)
				if err != nil {
					return err
				}
				if err := pb.Put(seqKey(seq), rec); err != nil {
					return err
				}
				if p.BootID != "" && !p.Source.Known() {
					if err := ub.Put(seqKey(seq), []byte(p.BootID)); err != nil {
						return err
					}
					unset++
				}
				subj := subject(p)
				if err := lb.Put([]byte(subj), encodeLast(last{Seq: seq, Kind: p.Kind, Time: p.Time, Department: p.Department})); err != nil {
					return err
				}
				if p.Employee != "" {
					lastUsedBy = p.Name
				}
				pend++
				r.out[i] = p
			}
		}
		for _, kv := range []struct{ k, v []byte }{
			{store.KeyLastSeq, store.PutUint(seq)},
			{store.KeyPending, store.PutUint(pend)},
			{store.KeyUnsetClock, store.PutUint(unset)},
		} {
			if err := meta.Put(kv.k, kv.v); err != nil {
				return err
			}
		}
		if lastUsedBy != "" {
			return meta.Put(store.KeyLastUsedBy, []byte(lastUsedBy))
		}
		return nil
	})
	if err != nil {
		j.log.Error("journal: commit failed; punches not recorded", "punches", len(batch), "err", err)
		for _, r := range batch {
			if r.err == nil {
				r.err = fmt.Errorf("journal: write: %w", err)
			}
			r.out = nil
		}
		return
	}
	j.lastSeq.Store(seq)
	j.pending.Store(int64(pend))
	j.unsetClock.Store(int64(unset))
	if lastUsedBy != "" {
		j.mu.Lock()
		j.lastUsedBy = lastUsedBy
		j.mu.Unlock()
	}
}

func subject(p Punch) string {
	if p.Employee != "" {
		return store.SubjectEmployee + p.Employee
	}
	return store.SubjectBadge + p.Badge
}
