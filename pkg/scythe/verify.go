package scythe

import (
	"crypto/ed25519"
	"errors"
	"time"
)

// Reasons a license is not valid, as POST /api/licenses/validate names them
// in "reason". Offline verification can answer the first four; revocation
// and seats are known only to the controller.
const (
	ReasonMalformed        = "malformed"
	ReasonInvalidSignature = "invalid_signature"
	ReasonWrongProduct     = "wrong_product"
	ReasonExpired          = "expired"
	ReasonRevoked          = "revoked"
	ReasonSeatsExhausted   = "seats_exhausted"
)

// Errors of Parse and Verify, one per reason; ReasonOf maps them back.
var (
	// ErrMalformed means the text is not a license key of this format.
	ErrMalformed = errors.New("license key is malformed")
	// ErrInvalidSignature means the signature does not hold, or no key of
	// the key set has the key id the license names.
	ErrInvalidSignature = errors.New("license signature is invalid")
	// ErrWrongProduct means the license is for another product.
	ErrWrongProduct = errors.New("license is for another product")
	// ErrExpired means the license is past its expiry.
	ErrExpired = errors.New("license has expired")
)

// Options are the checks of Verify beyond the signature.
type Options struct {
	// ProductID, when set, must be the license's product.
	ProductID string
	// Now is the time expiry is checked at; zero means time.Now().
	Now time.Time
}

// Verify checks key against keys: its form, its signature, and then the
// product and expiry that opts ask for, in that order. It returns the
// license's claims when all hold; otherwise an error wrapping one of
// ErrMalformed, ErrInvalidSignature, ErrWrongProduct or ErrExpired. After a
// product or expiry failure the claims are returned too, since the
// signature held. Verify never panics, whatever its input, and does only
// public-key work.
func Verify(key string, keys *KeySet, opts Options) (Claims, error) {
	tok, err := Parse(key)
	if err != nil {
		return Claims{}, err
	}
	if err := tok.VerifySignature(keys); err != nil {
		return Claims{}, err
	}
	return tok.Claims, tok.Claims.CheckUse(opts)
}

// VerifySignature reports whether the token was signed by the key of keys
// that its key id names: nil, or an error wrapping ErrInvalidSignature.
func (t *Token) VerifySignature(keys *KeySet) error {
	pub, ok := keys.Get(t.KeyID)
	if !ok {
		return ErrInvalidSignature
	}
	if !ed25519.Verify(pub, t.signed, t.sig) {
		return ErrInvalidSignature
	}
	return nil
}

// CheckUse checks the product and the expiry of opts against the claims.
func (c Claims) CheckUse(opts Options) error {
	if opts.ProductID != "" && opts.ProductID != c.ProductID {
		return ErrWrongProduct
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	if c.ExpiredAt(now) {
		return ErrExpired
	}
	return nil
}

// ReasonOf returns the reason string of an error of Parse or Verify, or ""
// for nil and for errors of other kinds.
func ReasonOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrMalformed):
		return ReasonMalformed
	case errors.Is(err, ErrInvalidSignature):
		return ReasonInvalidSignature
	case errors.Is(err, ErrWrongProduct):
		return ReasonWrongProduct
	case errors.Is(err, ErrExpired):
		return ReasonExpired
	}
	return ""
}
