package onboarding

// This file is the clock's identity as the agent holds it: Keeper keeps it
// (in memory and in STATE_DIR/identity) for the status, the sync and the
// console.

import (
	"errors"
	"sync"

	"timeclock/onboarding/identity"
)

// Keeper holds the clock's identity and the onboarding step in progress.
type Keeper struct {
	store  *identity.Store
	update sync.Mutex // serialises Update

	mu   sync.Mutex
	id   *identity.Identity // guarded by mu; nil until onboarded
	step string             // guarded by mu; the onboarding state while onboarding
}

// NewKeeper keeps the identity in stateDir/identity; nothing is read yet.
func NewKeeper(stateDir string) *Keeper {
	return &Keeper{store: identity.NewStore(stateDir)}
}

// Store is where the identity is kept.
func (k *Keeper) Store() *identity.Store { return k.store }

// Identity returns the clock's identity, nil before onboarding.
func (k *Keeper) Identity() *identity.Identity {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.id
}

// Current returns the identity and the onboarding step together.
func (k *Keeper) Current() (id *identity.Identity, step string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.id, k.step
}

// SetStep records the onboarding state in progress (for the status).
func (k *Keeper) SetStep(step string) {
	k.mu.Lock()
	k.step = step
	k.mu.Unlock()
}

// Adopt makes id the clock's identity; onboarding is over.
func (k *Keeper) Adopt(id *identity.Identity) {
	k.mu.Lock()
	k.id, k.step = id, ""
	k.mu.Unlock()
}

// Erase forgets the identity: its files (key, certificate, CA, manifest)
// and the copy in memory.
func (k *Keeper) Erase() error {
	if err := k.store.Erase(); err != nil {
		return err
	}
	k.mu.Lock()
	k.id = nil
	k.mu.Unlock()
	return nil
}

// Update saves a changed copy of the identity and makes it current. The
// save (fsynced files) happens outside the identity's lock, which the
// punch loop's screen takes for the status.
func (k *Keeper) Update(change func(*identity.Identity)) error {
	k.update.Lock() // one update at a time
	defer k.update.Unlock()
	cur := k.Identity()
	if cur == nil {
		return errors.New("the clock is not onboarded")
	}
	cp := *cur
	change(&cp)
	if err := k.store.Save(&cp); err != nil {
		return err
	}
	k.mu.Lock()
	if k.id == cur { // not erased or replaced meanwhile
		k.id = &cp
	}
	k.mu.Unlock()
	return nil
}
