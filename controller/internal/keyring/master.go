// Package keyring holds the controller's master key and, sealed by it, every account's blob
// keys.
//
// The master key is 32 random bytes. It comes from the environment variable
// GRIM_MASTER_KEY (base64) when that is set, and otherwise from <data-dir>/master.key
// (base64, mode 0600), which the first start creates. Account keys are kept in the database
// only wrapped: XChaCha20-Poly1305 under the master key, with the account id as additional
// data, so a row copied to another account does not open. Whoever holds the database
// without the master key learns nothing of the keys.
//
// Controllers that share one PostgreSQL database must share the master key too: set the
// same GRIM_MASTER_KEY on each (or copy one master.key to all of them). A controller with
// another master key cannot unwrap the keys the others created and fails every request that
// needs them. Losing the master key loses every account's keys, and with them every
// backup: keep a copy of it somewhere safe, apart from the database.
package keyring

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/grim-reaper/grim/internal/atomicfile"
)

// MasterKeyFile is the master key's file name in the data directory.
const MasterKeyFile = "master.key"

// masterKeySize is the master key's length in bytes.
const masterKeySize = chacha20poly1305.KeySize

// wrapVersion is the first byte of a wrapped value, saying how the rest is laid out:
// version u8 | nonce (24 bytes) | XChaCha20-Poly1305 ciphertext and tag.
const wrapVersion = 1

// ErrUnwrap means a wrapped value did not open: it was damaged, moved to another account,
// or wrapped by another master key.
var ErrUnwrap = errors.New("unwrap: wrong master key or damaged data")

// Master is the controller's master key. It is safe for concurrent use.
type Master struct {
	aead cipher.AEAD
}

// LoadOrCreateMaster returns the master key. fromEnv is the value of GRIM_MASTER_KEY: when
// it is not empty it must be the base64 of 32 bytes, and the data directory is not
// consulted. Otherwise the key is read from <dataDir>/master.key, which is created with
// mode 0600 and a new random key when it does not exist. Two controllers creating the file
// at once end up with the same key.
func LoadOrCreateMaster(dataDir string, fromEnv string) (*Master, error) {
	if fromEnv != "" {
		key, err := decodeKey(fromEnv)
		if err != nil {
			return nil, fmt.Errorf("master key from GRIM_MASTER_KEY: %w", err)
		}
		return newMaster(key)
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	text, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		text, err = createKeyFile(dataDir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	key, err := decodeKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("master key %s: %w", path, err)
	}
	return newMaster(key)
}

// createKeyFile writes a new random key to path unless another process has just created
// the file, and returns the file's content either way. The key is written completely and
// synced under a temporary name, then linked to path, which fails when path exists, and the
// directory is synced; so the file is never seen half-written, a racing creator never
// replaces a key in use, and the key is durable before it protects anything.
func createKeyFile(dataDir, path string) ([]byte, error) {
	key := make([]byte, masterKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	text := []byte(base64.StdEncoding.EncodeToString(key) + "\n")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, ".master-key-*")
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	_ = tmp.Close()
	defer os.Remove(tmp.Name())
	if err := atomicfile.Write(tmp.Name(), text, 0o600); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	err = os.Link(tmp.Name(), path)
	if errors.Is(err, os.ErrExist) {
		return os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	// The new name must be durable before anything is wrapped with the key.
	if err := atomicfile.Sync(dataDir); err != nil {
		return nil, fmt.Errorf("create: %w", err)
	}
	return text, nil
}

// decodeKey parses the base64 of a 32-byte key, ignoring surrounding white space.
func decodeKey(text string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	if len(key) != masterKeySize {
		return nil, fmt.Errorf("want %d bytes, got %d", masterKeySize, len(key))
	}
	return key, nil
}

func newMaster(key []byte) (*Master, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	return &Master{aead: aead}, nil
}

// Wrap seals plain under the master key, binding it to aad: Unwrap opens the result only
// with the same aad. A fresh random nonce makes every result different.
func (m *Master) Wrap(plain, aad []byte) ([]byte, error) {
	ns := m.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+m.aead.Overhead())
	out[0] = wrapVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("wrap: nonce: %w", err)
	}
	return m.aead.Seal(out, out[1:], plain, additionalData(aad)), nil
}

// Unwrap opens what Wrap sealed with the same aad. Anything else, including a value wrapped
// by another master key, answers an error wrapping ErrUnwrap.
func (m *Master) Unwrap(wrapped, aad []byte) ([]byte, error) {
	ns := m.aead.NonceSize()
	if len(wrapped) < 1+ns+m.aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrUnwrap)
	}
	if wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrUnwrap, wrapped[0])
	}
	plain, err := m.aead.Open(nil, wrapped[1:1+ns], wrapped[1+ns:], additionalData(aad))
	if err != nil {
		return nil, ErrUnwrap
	}
	return plain, nil
}

// additionalData binds the version byte as well as the caller's aad, so the version cannot
// be changed without the tag failing.
func additionalData(aad []byte) []byte {
	return append([]byte{wrapVersion}, aad...)
}
