package blob

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/restic/chunker"
)

// Keys are an account's secrets: every agent of the account gets them over its
// mutual-TLS link, and the controller keeps them only wrapped by its master key.
type Keys struct {
	// Encryption keys the AEAD that seals blobs.
	Encryption []byte `json:"encryption"`
	// MAC keys the BLAKE3 hash that names blobs.
	MAC []byte `json:"mac"`
	// Polynomial is the chunker's polynomial; one per account, so chunk boundaries do not
	// reveal content across accounts and match across the account's hosts.
	Polynomial chunker.Pol `json:"polynomial"`
}

// keySize is the size of each symmetric key.
const keySize = 32

// NewKeys makes a fresh set of account keys.
func NewKeys() (*Keys, error) {
	k := &Keys{Encryption: make([]byte, keySize), MAC: make([]byte, keySize)}
	if _, err := rand.Read(k.Encryption); err != nil {
		return nil, fmt.Errorf("generate encryption key: %w", err)
	}
	if _, err := rand.Read(k.MAC); err != nil {
		return nil, fmt.Errorf("generate mac key: %w", err)
	}
	pol, err := chunker.RandomPolynomial()
	if err != nil {
		return nil, fmt.Errorf("generate chunker polynomial: %w", err)
	}
	k.Polynomial = pol
	return k, nil
}

// Validate reports keys that cannot be used.
func (k *Keys) Validate() error {
	if len(k.Encryption) != keySize || len(k.MAC) != keySize {
		return errors.New("account keys: wrong key size")
	}
	if !k.Polynomial.Irreducible() {
		return errors.New("account keys: chunker polynomial not irreducible")
	}
	return nil
}
