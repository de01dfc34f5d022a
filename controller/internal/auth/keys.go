// Package auth makes and checks the controller's API keys and the secrets
// of join tokens.
//
// An API key reads grim_<prefix>_<secret>: the prefix is 8 lowercase base32
// characters, stored in clear, that find the key's row; the secret is 52
// base32 characters (256 random bits). The store keeps only the hash of the
// whole key, so a leaked database gives no usable key.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// Scopes an API key can carry: full access, or read-only access.
const (
	ScopeFull = "full"
	ScopeRead = "read"
)

const (
	// KeyPrefix starts every key this package generates.
	KeyPrefix = "grim_"
	// prefixLen is the length of a key's identifying prefix.
	prefixLen = 8
	// secretBytes is the entropy of a key's or a join token's secret.
	secretBytes = 32
	// minSecretLen is the shortest secret part Parse accepts: 160 bits.
	minSecretLen = 32
	// foreignPrefixLen is the length of the prefix LookupPrefix derives for a
	// key that does not have this package's format. It differs from
	// prefixLen so the two kinds can never collide.
	foreignPrefixLen = 16
)

// encoding is lowercase base32 without padding: safe in URLs and headers and
// easy to read aloud.
var encoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").
	WithPadding(base32.NoPadding)

// Generate returns a fresh API key, its identifying prefix and its hash. The
// full key is shown to its owner once and never stored.
func Generate() (full, prefix, hash string, err error) {
	var p [5]byte // 5 bytes are exactly 8 base32 characters
	if _, err := rand.Read(p[:]); err != nil {
		return "", "", "", fmt.Errorf("generate api key: %w", err)
	}
	secret, err := GenerateSecret()
	if err != nil {
		return "", "", "", fmt.Errorf("generate api key: %w", err)
	}
	prefix = encoding.EncodeToString(p[:])
	full = KeyPrefix + prefix + "_" + secret
	return full, prefix, Hash(full), nil
}

// GenerateSecret returns 256 random bits as 52 lowercase base32 characters,
// for join-token secrets and similar one-time values.
func GenerateSecret() (string, error) {
	var b [secretBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}
	return encoding.EncodeToString(b[:]), nil
}

// Parse returns the identifying prefix of a key in this package's format,
// and false for anything else.
func Parse(full string) (prefix string, ok bool) {
	rest, ok := strings.CutPrefix(full, KeyPrefix)
	if !ok {
		return "", false
	}
	prefix, secret, ok := strings.Cut(rest, "_")
	if !ok || len(prefix) != prefixLen || len(secret) < minSecretLen {
		return "", false
	}
	if !isBase32(prefix) || !isBase32(secret) {
		return "", false
	}
	return prefix, true
}

// LookupPrefix returns the prefix under which the key full is stored: the
// embedded prefix of a key in this package's format, or else one derived
// from the key's hash. The second form lets an operator bring a key of
// their own (the bootstrap admin key may be any string) and still have it
// found by an indexed lookup. Such a key is only as strong as the operator
// made it.
func LookupPrefix(full string) string {
	if prefix, ok := Parse(full); ok {
		return prefix
	}
	return Hash(full)[:foreignPrefixLen]
}

// Hash returns the hex SHA-256 of a key or secret. A fast hash is right
// here, unlike for passwords: keys and secrets carry at least 160 random
// bits, so guessing one from its hash is infeasible however fast the hash,
// while a slow KDF would only add cost to every authenticated request.
func Hash(full string) string {
	sum := sha256.Sum256([]byte(full))
	return hex.EncodeToString(sum[:])
}

// HashSecret hashes a join-token secret the way Hash hashes keys.
func HashSecret(secret string) string {
	return Hash(secret)
}

// Equal compares two hashes in constant time, so that the time a
// comparison takes says nothing about how much of a guess was right.
func Equal(hashA, hashB string) bool {
	return subtle.ConstantTimeCompare([]byte(hashA), []byte(hashB)) == 1
}

// isBase32 reports whether s holds only the characters of encoding.
func isBase32(s string) bool {
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}
