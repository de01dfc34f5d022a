// Package jointoken encodes the one-time join tokens that enrol a new agent.
//
// A token is `gjt1.<id>.<secret>.<ca>`: the token's id at the controller, a random secret
// that the controller keeps only as a hash, and the SHA-256 of the controller's CA
// certificate. The agent pins that CA during enrolment, so a token cannot be used to make
// it trust any other controller.
package jointoken

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

const (
	prefix     = "gjt1"
	secretSize = 32
	maxIDLen   = 64
)

// ErrMalformed reports a string that is not a join token of this version.
var ErrMalformed = errors.New("malformed join token")

// Token is a decoded join token.
type Token struct {
	ID            string // the token's id at the controller
	Secret        string // base64url of 32 random bytes; never stored in the clear
	CAFingerprint string // hex SHA-256 of the controller's CA certificate (DER)
}

// New makes a token with a fresh secret for the given id and CA fingerprint.
func New(id, caFingerprint string) (Token, error) {
	b := make([]byte, secretSize)
	if _, err := rand.Read(b); err != nil {
		return Token{}, fmt.Errorf("generate join secret: %w", err)
	}
	return Token{ID: id, Secret: base64.RawURLEncoding.EncodeToString(b), CAFingerprint: caFingerprint}, nil
}

// String is the copy-pasteable form of the token. It holds the secret: never log it.
func (t Token) String() string {
	fp, _ := hex.DecodeString(t.CAFingerprint)
	return strings.Join([]string{prefix, t.ID, t.Secret, base64.RawURLEncoding.EncodeToString(fp)}, ".")
}

// SecretHash is the hex SHA-256 of the secret, the only form the controller stores. The
// secret has 256 random bits, so a fast hash is enough: nothing can be guessed from it.
func (t Token) SecretHash() string {
	sum := sha256.Sum256([]byte(t.Secret))
	return hex.EncodeToString(sum[:])
}

// PinMatches reports whether a DER certificate is the CA this token pins, in constant time.
func (t Token) PinMatches(caDER []byte) bool {
	want, err := hex.DecodeString(t.CAFingerprint)
	if err != nil {
		return false
	}
	got := sha256.Sum256(caDER)
	return subtle.ConstantTimeCompare(want, got[:]) == 1
}

// Parse decodes a token. Surrounding white space is ignored, as tokens are pasted.
func Parse(s string) (Token, error) {
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) != 4 || parts[0] != prefix {
		return Token{}, ErrMalformed
	}
	id, secret, ca := parts[1], parts[2], parts[3]
	if id == "" || len(id) > maxIDLen || !isIDChars(id) {
		return Token{}, ErrMalformed
	}
	raw, err := base64.RawURLEncoding.DecodeString(secret)
	if err != nil || len(raw) != secretSize {
		return Token{}, ErrMalformed
	}
	fp, err := base64.RawURLEncoding.DecodeString(ca)
	if err != nil || len(fp) != sha256.Size {
		return Token{}, ErrMalformed
	}
	return Token{ID: id, Secret: secret, CAFingerprint: hex.EncodeToString(fp)}, nil
}

func isIDChars(s string) bool {
	for _, r := range s {
		ok := r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
			(r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}
