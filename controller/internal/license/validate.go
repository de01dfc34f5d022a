package license

import (
	"context"
	"errors"
	"strings"
	"unicode"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/pkg/scythe"
)

// maxFingerprintLen bounds a machine fingerprint.
const maxFingerprintLen = 256

// Check is what Validate is asked about a key.
type Check struct {
	// Scope is the account whose keys may have signed the license; "" (an
	// admin) accepts any account's.
	Scope string
	// Key is the license key as the customer has it.
	Key string
	// ProductID, when set, must be the license's product.
	ProductID string
	// Fingerprint, when set, must hold a seat or find one free.
	Fingerprint string
}

// Result is the answer of Validate. License is set whenever the signature
// held, so also for most refusals.
type Result struct {
	Valid   bool
	Reason  string // a scythe.Reason* constant when not Valid
	Claims  scythe.Claims
	License *store.License
}

// Validate checks a license key in the order the reasons are listed in
// scythe: form, signature (by a key of the scope's account), product,
// expiry, revocation and, for a fingerprint, seats. A refusal is a Result
// with its reason, not an error; errors are faults of the service only.
// Only public keys are used, and a key that is not well formed costs no
// database access.
func (s *Service) Validate(ctx context.Context, chk Check) (Result, error) {
	if chk.Fingerprint != "" {
		if err := checkFingerprint(chk.Fingerprint); err != nil {
			return Result{}, err
		}
	}
	res, err := s.verify(ctx, chk)
	if err != nil || res.Reason != "" {
		return res, err
	}
	lic, err := s.st.Licenses().Get(ctx, "", res.Claims.LicenseID)
	if errors.Is(err, store.ErrNotFound) {
		// A key that verifies but whose license is gone was deleted with
		// its account: treat it as revoked.
		return Result{Reason: scythe.ReasonRevoked, Claims: res.Claims}, nil
	}
	if err != nil {
		return Result{}, err
	}
	res.License = lic
	if lic.RevokedAt != nil {
		return refuse(res, scythe.ReasonRevoked), nil
	}
	if chk.Fingerprint == "" || lic.SeatsUsed < lic.MaxUsers {
		res.Valid = true
		return res, nil
	}
	_, err = s.st.Licenses().Activation(ctx, lic.ID, chk.Fingerprint)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(res, scythe.ReasonSeatsExhausted), nil
	}
	if err != nil {
		return Result{}, err
	}
	res.Valid = true
	return res, nil
}

// verify does the offline part of Validate, the same checks as
// scythe.Verify: form, signature, product and expiry. A product or expiry
// refusal carries the license.
func (s *Service) verify(ctx context.Context, chk Check) (Result, error) {
	tok, err := scythe.Parse(chk.Key)
	if err != nil {
		return Result{Reason: scythe.ReasonMalformed}, nil
	}
	v, err := s.verifierOf(ctx, tok.KeyID)
	if errors.Is(err, errUnknownKey) {
		return Result{Reason: scythe.ReasonInvalidSignature}, nil
	}
	if err != nil {
		return Result{}, err
	}
	// Another account's key is as good as none: its licenses are not the
	// caller's to know about.
	if chk.Scope != "" && v.accountID != chk.Scope {
		return Result{Reason: scythe.ReasonInvalidSignature}, nil
	}
	if err := tok.VerifySignature(v.keys); err != nil {
		return Result{Reason: scythe.ReasonInvalidSignature}, nil
	}
	res := Result{Claims: tok.Claims}
	err = tok.Claims.CheckUse(scythe.Options{ProductID: chk.ProductID, Now: s.now()})
	if err == nil {
		return res, nil
	}
	res.Reason = scythe.ReasonOf(err)
	lic, err := s.st.Licenses().Get(ctx, "", tok.Claims.LicenseID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Result{}, err
	}
	res.License = lic
	return res, nil
}

func refuse(res Result, reason string) Result {
	res.Valid, res.Reason = false, reason
	return res
}

// checkFingerprint checks a machine fingerprint: printable text of at most
// maxFingerprintLen bytes.
func checkFingerprint(fp string) error {
	if strings.TrimSpace(fp) == "" || len(fp) > maxFingerprintLen ||
		strings.ContainsFunc(fp, unicode.IsControl) {
		return fieldError("machine_fingerprint",
			"machine_fingerprint must be 1 to %d bytes of text", maxFingerprintLen)
	}
	return nil
}
