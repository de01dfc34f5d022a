// Package blob is the object format that agents write and read and the controller stores
// without being able to read it: content-addressed, compressed, then sealed blobs.
//
// A blob's ID is BLAKE3 keyed with the account's MAC key over the plaintext, so ids reveal
// nothing to the store and two accounts never share an id for the same data. A sealed blob
// is
//
//	version u8 (1) | cipher u8 | nonce | AEAD(ciphertext of: kind u8 | compression u8 | data)
//
// with the blob's ID as additional data, so a blob moved under another id fails to open.
// Open checks the keyed hash of what it decrypted, so a blob that opens is the one asked for.
package blob

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// IDSize is the length of an ID in bytes.
const IDSize = 32

// ID names a blob by the keyed hash of its plaintext.
type ID [IDSize]byte

// ErrBadID reports a string or byte slice that is not an ID.
var ErrBadID = errors.New("malformed blob id")

// String is the lowercase hex form.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// IsZero reports whether id is all zero bytes, the value of no blob.
func (id ID) IsZero() bool { return id == ID{} }

// ParseID decodes the hex form of an ID.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 2*IDSize {
		return id, ErrBadID
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, ErrBadID
	}
	return id, nil
}

// IDFromBytes copies a 32-byte slice into an ID.
func IDFromBytes(b []byte) (ID, error) {
	var id ID
	if len(b) != IDSize {
		return id, fmt.Errorf("%w: %d bytes", ErrBadID, len(b))
	}
	copy(id[:], b)
	return id, nil
}

// MarshalText encodes the ID as hex, which is also its JSON form.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText decodes the hex form.
func (id *ID) UnmarshalText(b []byte) error {
	parsed, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}

// Kind tells data chunks from tree objects; the store keeps it to find trees without keys.
type Kind uint8

// The kinds of blob.
const (
	KindData Kind = 0
	KindTree Kind = 1
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindData:
		return "data"
	case KindTree:
		return "tree"
	default:
		return fmt.Sprintf("kind(%d)", uint8(k))
	}
}
