package scythe

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Prefix is the first part of every key of this format's version.
const Prefix = "scy1"

// MaxKeyLen bounds the length of a key that Parse accepts, so that no input
// costs more than a small, fixed amount of work.
const MaxKeyLen = 8 << 10

// keyIDLen is the length of a key id: the hex of the first 8 bytes of the
// SHA-256 of the public key.
const keyIDLen = 16

// b64 is the encoding of the claims and the signature. Strict decoding
// refuses non-zero padding bits, so no two strings decode to the same bytes
// and any change to a key changes what it says or breaks it.
var b64 = base64.RawURLEncoding.Strict()

// Token is a key split into its parts. Its claims are decoded but not yet
// trusted: only Verify says whether the signature holds.
type Token struct {
	// KeyID names the key that signed the token.
	KeyID string
	// Claims are what the token says about the license.
	Claims Claims
	// signed is the text the signature covers; sig is the signature.
	signed []byte
	sig    []byte
}

// KeyID returns the id of a public key as keys and key sets name it.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:keyIDLen/2])
}

// Sign makes the key that carries c, signed by priv. It fails only when c
// does not pass Claims.Check or priv is not an Ed25519 private key.
func Sign(c Claims, priv ed25519.PrivateKey) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", errors.New("sign license: not an Ed25519 private key")
	}
	if err := c.Check(); err != nil {
		return "", fmt.Errorf("sign license: %w", err)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("sign license: encode claims: %w", err)
	}
	pub, _ := priv.Public().(ed25519.PublicKey)
	signed := Prefix + "." + KeyID(pub) + "." + b64.EncodeToString(payload)
	sig := ed25519.Sign(priv, []byte(signed))
	key := signed + "." + b64.EncodeToString(sig)
	if len(key) > MaxKeyLen {
		return "", fmt.Errorf("sign license: key of %d bytes is longer than %d", len(key),
			MaxKeyLen)
	}
	return key, nil
}

// Parse splits key into its parts and decodes its claims without checking
// the signature. White space around the key is ignored, for keys pasted
// from mail. Any key that is not of this format answers an error wrapping
// ErrMalformed; Parse never panics, whatever its input.
func Parse(key string) (*Token, error) {
	key = strings.TrimSpace(key)
	if len(key) > MaxKeyLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformed, MaxKeyLen)
	}
	parts := strings.Split(key, ".")
	if len(parts) != 4 {
		return nil, fmt.Errorf("%w: want 4 dot-separated parts, got %d", ErrMalformed,
			len(parts))
	}
	if parts[0] != Prefix {
		return nil, fmt.Errorf("%w: unknown format %q", ErrMalformed, clip(parts[0]))
	}
	if !isKeyID(parts[1]) {
		return nil, fmt.Errorf("%w: bad key id", ErrMalformed)
	}
	payload, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: claims are not base64url", ErrMalformed)
	}
	sig, err := b64.DecodeString(parts[3])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: bad signature encoding", ErrMalformed)
	}
	claims, err := decodeClaims(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	signed := key[:len(key)-len(parts[3])-1]
	return &Token{KeyID: parts[1], Claims: claims, signed: []byte(signed), sig: sig}, nil
}

// decodeClaims decodes the JSON of the claims: one object and nothing after
// it. Unknown members are allowed, so that newer controllers may add claims.
func decodeClaims(payload []byte) (Claims, error) {
	var c Claims
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&c); err != nil {
		return Claims{}, errors.New("claims are not a JSON object")
	}
	if dec.More() {
		return Claims{}, errors.New("data after the claims")
	}
	if err := c.Check(); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// isKeyID reports whether s has the form of a key id: 16 lowercase hex digits.
func isKeyID(s string) bool {
	if len(s) != keyIDLen {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}
