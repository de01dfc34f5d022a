package scythe

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Algorithm is the signature algorithm of every key this format knows.
const Algorithm = "Ed25519"

// PublicKey is one verification key as GET /api/licenses/public-key lists
// it.
type PublicKey struct {
	// ID is KeyID of the key.
	ID string `json:"id"`
	// Algorithm is always Algorithm.
	Algorithm string `json:"algorithm"`
	// Key is the standard base64 of the 32-byte Ed25519 public key.
	Key string `json:"public_key"`
	// CreatedAt is when the controller made the key.
	CreatedAt time.Time `json:"created_at"`
	// Current marks the key that signs new licenses.
	Current bool `json:"current"`
}

// KeySet is the verification keys of one issuer, by key id. The zero value
// is empty; a KeySet is safe for concurrent reads once built.
type KeySet struct {
	keys map[string]ed25519.PublicKey
}

// Add puts pub into the set under its KeyID and returns that id.
func (s *KeySet) Add(pub ed25519.PublicKey) string {
	if s.keys == nil {
		s.keys = make(map[string]ed25519.PublicKey)
	}
	id := KeyID(pub)
	s.keys[id] = pub
	return id
}

// Get returns the key with id.
func (s *KeySet) Get(id string) (ed25519.PublicKey, bool) {
	if s == nil {
		return nil, false
	}
	pub, ok := s.keys[id]
	return pub, ok
}

// Len is the number of keys in the set.
func (s *KeySet) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// keySetFile is the JSON that ParseKeySet reads: the reply of GET
// /api/licenses/public-key, whose keys are under "keys".
type keySetFile struct {
	Keys []PublicKey `json:"keys"`
}

// ParseKeySet reads a key set from the JSON reply of GET
// /api/licenses/public-key (only its "keys" member is used). Every key must
// be an Ed25519 key whose id matches it, and there must be at least one.
func ParseKeySet(data []byte) (*KeySet, error) {
	var f keySetFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse key set: %w", err)
	}
	if len(f.Keys) == 0 {
		return nil, errors.New("parse key set: no keys")
	}
	set := &KeySet{}
	for i, k := range f.Keys {
		pub, err := k.decode()
		if err != nil {
			return nil, fmt.Errorf("parse key set: key %d: %w", i, err)
		}
		set.Add(pub)
	}
	return set, nil
}

// decode checks k and returns its public key.
func (k PublicKey) decode() (ed25519.PublicKey, error) {
	if k.Algorithm != Algorithm {
		return nil, fmt.Errorf("algorithm %q is not %s", k.Algorithm, Algorithm)
	}
	raw, err := base64.StdEncoding.DecodeString(k.Key)
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("public_key is not the base64 of 32 bytes")
	}
	pub := ed25519.PublicKey(raw)
	if KeyID(pub) != k.ID {
		return nil, fmt.Errorf("id %q does not match the key", k.ID)
	}
	return pub, nil
}

// NewPublicKey describes pub for a key set file.
func NewPublicKey(pub ed25519.PublicKey, createdAt time.Time, current bool) PublicKey {
	return PublicKey{ID: KeyID(pub), Algorithm: Algorithm,
		Key: base64.StdEncoding.EncodeToString(pub), CreatedAt: createdAt.UTC(), Current: current}
}
