package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// csrfLabel separates CSRF tokens from every other use of a session secret.
const csrfLabel = "grim csrf token v1"

// CSRFToken is the anti-forgery token of the dashboard session whose cookie holds
// secret: HMAC-SHA256 keyed with the secret over a fixed label, in unpadded base64url.
// Only a page that was told it (which needs the cookie) can send it back, it tells
// nothing about the secret, and it differs from the secret's stored hash, so it needs
// no storage of its own and ends with the session.
func CSRFToken(secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(csrfLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether token is the CSRF token of secret.
func CheckCSRF(secret, token string) bool {
	return token != "" && Equal(CSRFToken(secret), token)
}
