package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// errSameMachine is the rollback of an activation that lost a race with an
// activation of the same machine.
var errSameMachine = errors.New("machine activated concurrently")

// Activate gives the machine a seat of the license unless it holds one
// already, and reports whether it took a new seat. A machine that holds a
// seat only has its last_seen_at and name refreshed, so repeating an
// activation is harmless. When no seat is free it answers ErrNoSeat; a
// license that does not exist or is revoked answers ErrNotFound.
//
// The seat is taken by a conditional UPDATE of seats_used, which the
// database serialises per license: of two activations racing for the last
// seat, on one controller or several, exactly one succeeds.
func (r *Licenses) Activate(ctx context.Context, licenseID, fingerprint, name string,
	at time.Time,
) (*Activation, bool, error) {
	at = dbTime(at)
	act := &Activation{LicenseID: licenseID, Fingerprint: fingerprint, MachineName: name,
		CreatedAt: at, LastSeenAt: at}
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return takeSeat(tx, act)
	})
	if errors.Is(err, errSameMachine) || errors.Is(err, errHeld) {
		existing, err := r.refresh(ctx, licenseID, fingerprint, name, at)
		return existing, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("activate license: %w", err)
	}
	return act, true, nil
}

// errHeld means the machine already holds a seat.
var errHeld = errors.New("machine holds a seat")

// takeSeat is the transaction of Activate.
func takeSeat(tx *gorm.DB, act *Activation) error {
	var n int64
	err := tx.Model(&Activation{}).
		Where("license_id = ? AND fingerprint = ?", act.LicenseID, act.Fingerprint).Count(&n).Error
	if err != nil {
		return wrap("find activation", err)
	}
	if n > 0 {
		return errHeld
	}
	res := tx.Model(&License{}).
		Where("id = ? AND revoked_at IS NULL AND seats_used < max_users", act.LicenseID).
		Updates(map[string]any{"seats_used": gorm.Expr("seats_used + 1"),
			"updated_at": act.LastSeenAt})
	if res.Error != nil {
		return wrap("take seat", res.Error)
	}
	if res.RowsAffected == 0 {
		return noSeatOrGone(tx, act.LicenseID)
	}
	err = wrap("create activation", tx.Create(act).Error)
	if errors.Is(err, ErrConflict) {
		return errSameMachine
	}
	return err
}

// noSeatOrGone tells why no seat was taken: ErrNotFound for a license that
// is absent or revoked, ErrNoSeat for a full one.
func noSeatOrGone(tx *gorm.DB, licenseID string) error {
	var n int64
	err := tx.Model(&License{}).Where("id = ? AND revoked_at IS NULL", licenseID).Count(&n).Error
	if err != nil {
		return wrap("find license", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return ErrNoSeat
}

// refresh notes that a machine holding a seat was seen again.
func (r *Licenses) refresh(ctx context.Context, licenseID, fingerprint, name string,
	at time.Time,
) (*Activation, error) {
	updates := map[string]any{"last_seen_at": at}
	if name != "" {
		updates["machine_name"] = name
	}
	err := r.db.WithContext(ctx).Model(&Activation{}).
		Where("license_id = ? AND fingerprint = ?", licenseID, fingerprint).
		Updates(updates).Error
	if err != nil {
		return nil, wrap("refresh activation", err)
	}
	return r.Activation(ctx, licenseID, fingerprint)
}

// Deactivate frees the machine's seat of the license and reports whether it
// held one. Deactivating a machine without a seat is not an error.
func (r *Licenses) Deactivate(ctx context.Context, licenseID, fingerprint string,
	at time.Time,
) (bool, error) {
	freed := false
	err := r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("license_id = ? AND fingerprint = ?", licenseID, fingerprint).
			Delete(&Activation{})
		if res.Error != nil || res.RowsAffected == 0 {
			return wrap("delete activation", res.Error)
		}
		freed = true
		return wrap("free seat", tx.Model(&License{}).Where("id = ?", licenseID).
			Updates(map[string]any{"seats_used": gorm.Expr("seats_used - 1"),
				"updated_at": dbTime(at)}).Error)
	})
	if err != nil {
		return false, fmt.Errorf("deactivate license: %w", err)
	}
	return freed, nil
}
