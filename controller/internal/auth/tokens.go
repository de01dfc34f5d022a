package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// Kinds of bearer secrets besides API keys. Each starts its secrets, so a
// secret says what it is and one kind can never pass for another.
const (
	KindAccess  = "gat" // an access token
	KindRefresh = "grt" // a refresh token
	KindCode    = "gac" // an OAuth authorization code
	KindSecret  = "gcs" // an OAuth client secret
)

// NewToken returns a fresh secret of kind, <kind>_<prefix>_<secret>, with
// its identifying prefix and its hash. Only the hash is ever stored.
func NewToken(kind string) (full, prefix, hash string, err error) {
	var p [5]byte
	if _, err := rand.Read(p[:]); err != nil {
		return "", "", "", fmt.Errorf("generate %s token: %w", kind, err)
	}
	secret, err := GenerateSecret()
	if err != nil {
		return "", "", "", fmt.Errorf("generate %s token: %w", kind, err)
	}
	prefix = encoding.EncodeToString(p[:])
	full = kind + "_" + prefix + "_" + secret
	return full, prefix, Hash(full), nil
}

// ParseToken returns the prefix of a secret of kind made by NewToken, and
// false for anything else.
func ParseToken(full, kind string) (prefix string, ok bool) {
	rest, ok := strings.CutPrefix(full, kind+"_")
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

// VerifyPKCE reports whether verifier matches the S256 challenge of RFC
// 7636: BASE64URL(SHA256(verifier)) without padding, compared in constant
// time. A verifier outside the RFC's 43 to 128 unreserved characters never
// matches.
func VerifyPKCE(challenge, verifier string) bool {
	if len(verifier) < 43 || len(verifier) > 128 || challenge == "" {
		return false
	}
	for _, c := range verifier {
		if !isUnreserved(c) {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	return Equal(base64.RawURLEncoding.EncodeToString(sum[:]), challenge)
}

// ValidChallenge reports whether s can be an S256 challenge: 43 characters
// of base64url.
func ValidChallenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

func isUnreserved(c rune) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
