package license

import (
	"context"
	"errors"
	"fmt"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/pkg/scythe"
)

// RefusedError is an activation or deactivation refused because of the
// license: Reason is a scythe.Reason* constant.
type RefusedError struct {
	Reason string
}

// Error implements error.
func (e *RefusedError) Error() string { return "license refused: " + e.Reason }

// Activation is the answer of Activate.
type Activation struct {
	License    *store.License
	Activation *store.Activation
	// Created is false when the machine already held a seat.
	Created bool
}

// Activate gives the machine chk.Fingerprint a seat of the license, after
// the checks of Validate. A machine that holds a seat keeps it: activating
// again changes nothing but its last-seen time and name. A license that is
// not valid answers a *RefusedError, a bad fingerprint a *FieldError.
func (s *Service) Activate(ctx context.Context, chk Check, machineName string) (
	Activation, error,
) {
	if err := checkFingerprint(chk.Fingerprint); err != nil {
		return Activation{}, err
	}
	if machineName != "" {
		if _, err := text("machine_name", machineName, maxFingerprintLen); err != nil {
			return Activation{}, err
		}
	}
	res, err := s.Validate(ctx, chk)
	if err != nil {
		return Activation{}, err
	}
	if !res.Valid {
		return Activation{}, &RefusedError{Reason: res.Reason}
	}
	act, created, err := s.st.Licenses().Activate(ctx, res.License.ID, chk.Fingerprint,
		machineName, s.now())
	switch {
	case errors.Is(err, store.ErrNoSeat):
		return Activation{}, &RefusedError{Reason: scythe.ReasonSeatsExhausted}
	case errors.Is(err, store.ErrNotFound):
		return Activation{}, &RefusedError{Reason: scythe.ReasonRevoked}
	case err != nil:
		return Activation{}, err
	}
	lic, err := s.st.Licenses().Get(ctx, "", res.License.ID)
	if err != nil {
		return Activation{}, err
	}
	if created {
		s.log.InfoContext(ctx, "license activated", "license_id", lic.ID,
			"account_id", lic.AccountID, "seats_used", lic.SeatsUsed, "max_users", lic.MaxUsers)
	}
	return Activation{License: lic, Activation: act, Created: created}, nil
}

// Deactivate frees the seat the machine holds and reports whether it held
// one. Only the signature must hold: an expired or revoked license can
// still give its seats back.
func (s *Service) Deactivate(ctx context.Context, chk Check) (*store.License, bool, error) {
	if err := checkFingerprint(chk.Fingerprint); err != nil {
		return nil, false, err
	}
	res, err := s.verify(ctx, Check{Scope: chk.Scope, Key: chk.Key})
	if err != nil {
		return nil, false, err
	}
	if res.Reason == scythe.ReasonMalformed || res.Reason == scythe.ReasonInvalidSignature {
		return nil, false, &RefusedError{Reason: res.Reason}
	}
	lic, err := s.st.Licenses().Get(ctx, "", res.Claims.LicenseID)
	if err != nil {
		return nil, false, fmt.Errorf("deactivate: %w", err)
	}
	freed, err := s.st.Licenses().Deactivate(ctx, lic.ID, chk.Fingerprint, s.now())
	if err != nil {
		return nil, false, err
	}
	if freed {
		s.log.InfoContext(ctx, "license deactivated", "license_id", lic.ID,
			"account_id", lic.AccountID)
	}
	lic, err = s.st.Licenses().Get(ctx, "", lic.ID)
	return lic, freed, err
}
