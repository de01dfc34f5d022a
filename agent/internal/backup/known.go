package backup

import (
	"sync"

	"github.com/grim-reaper/grim/protocol/blob"
)

// state is what the run knows of one blob id.
type state uint8

const (
	// unknown: nobody has asked the store about it or holds its data.
	unknown state = iota
	// queued: a batch holds the data and will Put it unless the store has it, so the id
	// will be in the store when the run succeeds.
	queued
	// present: the store has it, or it was Put.
	present
	// absent: the store lacks it and nobody holds its data (a cached file named it).
	absent
)

// claim says what a goroutine that holds a blob's data must do with it.
type claim uint8

const (
	claimSkip claim = iota // someone else has it covered: drop the data
	claimAsk               // ask the store, Put if missing
	claimPut               // known to be missing: Put without asking
)

// knownSet is the run's memory of blob ids, so that no blob is asked about or sent twice.
type knownSet struct {
	mu sync.Mutex // guards m
	m  map[blob.ID]state
}

func newKnownSet() *knownSet { return &knownSet{m: make(map[blob.ID]state)} }

// claim marks id as queued by the caller, who holds its data, unless someone already
// covers it.
func (k *knownSet) claim(id blob.ID) claim {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch k.m[id] {
	case unknown:
		k.m[id] = queued
		return claimAsk
	case absent:
		k.m[id] = queued
		return claimPut
	default:
		return claimSkip
	}
}

// get returns what is known of id.
func (k *knownSet) get(id blob.ID) state {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.m[id]
}

// answer records the store's answer for id and reports whether id is, or will be when
// the run succeeds, in the store: a missing id another batch has queued since will be.
func (k *knownSet) answer(id blob.ID, missing bool) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.m[id]
	switch {
	case !missing:
		k.m[id] = present
		return true
	case s == queued || s == present:
		return true
	default:
		k.m[id] = absent
		return false
	}
}

// sent marks id as Put.
func (k *knownSet) sent(id blob.ID) {
	k.mu.Lock()
	k.m[id] = present
	k.mu.Unlock()
}
