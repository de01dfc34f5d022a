package scythe

import (
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// License types.
const (
	TypePerpetual    = "perpetual"
	TypeSubscription = "subscription"
	TypeTrial        = "trial"
)

// Limits of the claims, checked by Claims.Check.
const (
	MaxProductIDLen = 128
	MaxNameLen      = 200
	MaxFeatures     = 64
	MaxFeatureLen   = 64
	MaxUsers        = 1_000_000
)

// Claims are what a license key says. Times are Unix seconds so that the key
// stays short; ExpiresAt 0 means the license never expires.
type Claims struct {
	// LicenseID is the controller's id of the license.
	LicenseID string `json:"lid"`
	// ProductID names the product the license is for.
	ProductID string `json:"pid"`
	// Type is TypePerpetual, TypeSubscription or TypeTrial.
	Type string `json:"typ"`
	// Customer and Company name the licensee.
	Customer string `json:"cus"`
	Company  string `json:"com,omitempty"`
	// Features are the product features the license unlocks.
	Features []string `json:"fea,omitempty"`
	// MaxUsers is how many machines may hold an activation at once.
	MaxUsers int `json:"max"`
	// IssuedAt and ExpiresAt are Unix seconds.
	IssuedAt  int64 `json:"iat"`
	ExpiresAt int64 `json:"exp,omitempty"`
}

// Expiry returns when the license expires and whether it ever does.
func (c Claims) Expiry() (time.Time, bool) {
	if c.ExpiresAt == 0 {
		return time.Time{}, false
	}
	return time.Unix(c.ExpiresAt, 0).UTC(), true
}

// ExpiredAt reports whether the license has expired at now: from the second
// ExpiresAt names on, it is expired.
func (c Claims) ExpiredAt(now time.Time) bool {
	return c.ExpiresAt != 0 && now.Unix() >= c.ExpiresAt
}

// HasFeature reports whether the license unlocks feature.
func (c Claims) HasFeature(feature string) bool {
	return slices.Contains(c.Features, feature)
}

// Check reports whether the claims are complete and within the limits. A
// signed key with claims that fail it is malformed.
func (c Claims) Check() error {
	switch {
	case c.LicenseID == "" || len(c.LicenseID) > MaxProductIDLen:
		return errors.New("claims: bad license id")
	case c.ProductID == "" || len(c.ProductID) > MaxProductIDLen:
		return errors.New("claims: bad product id")
	case c.Type != TypePerpetual && c.Type != TypeSubscription && c.Type != TypeTrial:
		return fmt.Errorf("claims: unknown license type %q", clip(c.Type))
	case c.Customer == "" || utf8.RuneCountInString(c.Customer) > MaxNameLen:
		return errors.New("claims: bad customer")
	case utf8.RuneCountInString(c.Company) > MaxNameLen:
		return errors.New("claims: bad company")
	case c.MaxUsers < 1 || c.MaxUsers > MaxUsers:
		return errors.New("claims: max users out of range")
	case c.IssuedAt <= 0 || c.ExpiresAt < 0:
		return errors.New("claims: bad times")
	case c.Type == TypePerpetual && c.ExpiresAt != 0:
		return errors.New("claims: a perpetual license does not expire")
	case c.Type != TypePerpetual && c.ExpiresAt == 0:
		return errors.New("claims: a subscription or trial expires")
	case len(c.Features) > MaxFeatures:
		return errors.New("claims: too many features")
	}
	for _, f := range c.Features {
		if f == "" || len(f) > MaxFeatureLen {
			return errors.New("claims: bad feature")
		}
	}
	return nil
}
