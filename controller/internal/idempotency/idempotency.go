// Package idempotency holds the rules of the Idempotency-Key header that creation
// routes honour: a repeat of the same key by the same account within Window answers
// what the first request made and makes nothing new.
//
// The resource itself keeps the key and a digest of the request that made it, under a
// unique index of (account, key): a repeat finds it there, and of two requests racing
// with one key the second insert fails and answers the first one's resource. Each
// service applies Check, Hash and Judge around its own store.
package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Window is how long a key answers the resource its first request made.
const Window = 24 * time.Hour

// MaxKeyLen bounds an Idempotency-Key.
const MaxKeyLen = 255

var (
	// ErrReuse means a key came again within the window with a different request.
	ErrReuse = errors.New("idempotency key reused with a different request")
	// ErrExpired means the key's first use is older than the window: the caller frees
	// the key on the old resource and goes on as if it were new.
	ErrExpired = errors.New("idempotency key past its window")
)

// CheckKey checks the header's value: 1 to MaxKeyLen printable ASCII characters. Its
// error is a message for the client.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || strings.ContainsFunc(key, func(r rune) bool {
		return r > unicode.MaxASCII || !unicode.IsPrint(r)
	}) {
		return fmt.Errorf("Idempotency-Key must be 1 to %d printable ASCII characters",
			MaxKeyLen)
	}
	return nil
}

// Hash is a digest of what req asks for, blind to the layout of the JSON it came in.
func Hash(req any) (string, error) {
	raw, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("hash request: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// Judge decides about a resource made at createdAt by a request of digest earlier with
// the same key as a request of digest hash: nil means answer that resource again,
// ErrExpired that the key is free again, ErrReuse that the request is refused.
func Judge(now, createdAt time.Time, earlier, hash string) error {
	if now.Sub(createdAt) >= Window {
		return ErrExpired
	}
	if earlier != hash {
		return ErrReuse
	}
	return nil
}
