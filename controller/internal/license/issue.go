package license

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/pkg/scythe"
)

// DefaultTrialDays is how long a trial without an expiry date runs.
const DefaultTrialDays = 30

// maxEmailLen bounds customer_email.
const maxEmailLen = 254

// Request is what a license is issued from: the body of POST
// /api/licenses/generate. Nil pointers are absent fields.
type Request struct {
	ProductID     string   `json:"product_id"`
	LicenseType   string   `json:"license_type"`
	CustomerName  string   `json:"customer_name"`
	CustomerEmail string   `json:"customer_email"`
	CompanyName   string   `json:"company_name"`
	Features      []string `json:"features"`
	// ExpiryDate is a date ("2025-01-01"), meaning the license is valid
	// through that day in UTC, or an RFC 3339 time, when it expires.
	ExpiryDate *string `json:"expiry_date"`
	MaxUsers   *int    `json:"max_users"`
	// IdempotencyKey, when set, makes a repeat of the request within
	// IdempotencyWindow answer the license the first one issued.
	IdempotencyKey string `json:"-"`
}

// FieldError is a request that the service refuses because of one field.
type FieldError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldError(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Generate issues a license for the account: it checks req, signs a key with
// the account's current signing key and stores the license. A bad request
// answers a *FieldError. With an IdempotencyKey used before within
// IdempotencyWindow it issues nothing and returns the license issued then,
// or ErrIdempotencyReuse when that request asked for something else.
func (s *Service) Generate(ctx context.Context, accountID string, req Request) (
	*store.License, error,
) {
	now := s.now()
	c, expires, err := claimsFrom(req, now)
	if err != nil {
		return nil, err
	}
	var hash string
	if req.IdempotencyKey != "" {
		if err := checkIdempotencyKey(req.IdempotencyKey); err != nil {
			return nil, err
		}
		if hash, err = requestHash(req); err != nil {
			return nil, err
		}
		if lic, err := s.replay(ctx, accountID, req.IdempotencyKey, hash); lic != nil ||
			err != nil {
			return lic, err
		}
	}
	kid, priv, err := s.signer(ctx, accountID)
	if err != nil {
		return nil, err
	}
	c.LicenseID = store.NewID("lic")
	key, err := scythe.Sign(c, priv)
	if err != nil {
		return nil, err
	}
	features, err := json.Marshal(c.Features)
	if err != nil {
		return nil, fmt.Errorf("encode features: %w", err)
	}
	lic := &store.License{ID: c.LicenseID, AccountID: accountID, SigningKeyID: kid,
		ProductID: c.ProductID, LicenseType: c.Type, CustomerName: c.Customer,
		CustomerEmail: strings.TrimSpace(req.CustomerEmail), CompanyName: c.Company,
		Features: string(features), MaxUsers: c.MaxUsers, Key: key, ExpiresAt: expires,
		RequestHash: hash, CreatedAt: now}
	if req.IdempotencyKey != "" {
		lic.IdempotencyKey = &req.IdempotencyKey
	}
	err = s.st.Licenses().Create(ctx, lic)
	if errors.Is(err, store.ErrConflict) && req.IdempotencyKey != "" {
		// A simultaneous request with the same key won: answer its license.
		return s.replay(ctx, accountID, req.IdempotencyKey, hash)
	}
	if err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "license issued", "license_id", lic.ID, "account_id", accountID,
		"product_id", lic.ProductID, "license_type", lic.LicenseType, "key_id", kid,
		"max_users", lic.MaxUsers)
	return lic, nil
}

// claimsFrom checks req field by field and returns the claims it asks for
// (without a license id) and the expiry.
func claimsFrom(req Request, now time.Time) (scythe.Claims, *time.Time, error) {
	c := scythe.Claims{IssuedAt: now.Unix(), MaxUsers: 1, Type: req.LicenseType,
		Company: strings.TrimSpace(req.CompanyName)}
	var err error
	if c.ProductID, err = text("product_id", req.ProductID, scythe.MaxProductIDLen); err != nil {
		return c, nil, err
	}
	if !slices.Contains(licenseTypes, c.Type) {
		return c, nil, fieldError("license_type", "license_type must be one of %s",
			strings.Join(licenseTypes, ", "))
	}
	if c.Customer, err = text("customer_name", req.CustomerName, scythe.MaxNameLen); err != nil {
		return c, nil, err
	}
	if err := checkEmail(req.CustomerEmail); err != nil {
		return c, nil, err
	}
	if c.Company != "" {
		if _, err := text("company_name", c.Company, scythe.MaxNameLen); err != nil {
			return c, nil, err
		}
	}
	if c.Features, err = features(req.Features); err != nil {
		return c, nil, err
	}
	if req.MaxUsers != nil {
		if *req.MaxUsers < 1 || *req.MaxUsers > scythe.MaxUsers {
			return c, nil, fieldError("max_users", "max_users must be 1 to %d", scythe.MaxUsers)
		}
		c.MaxUsers = *req.MaxUsers
	}
	expires, err := expiry(c.Type, req.ExpiryDate, now)
	if err != nil {
		return c, nil, err
	}
	if expires != nil {
		c.ExpiresAt = expires.Unix()
	}
	return c, expires, nil
}

// licenseTypes are the license types Generate accepts.
var licenseTypes = []string{scythe.TypePerpetual, scythe.TypeSubscription, scythe.TypeTrial}

// text checks a required one-line text field and returns it trimmed.
func text(field, v string, maxLen int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", fieldError(field, "%s must not be blank", field)
	case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
		return "", fieldError(field, "%s must be text without control characters", field)
	case utf8.RuneCountInString(v) > maxLen:
		return "", fieldError(field, "%s must be at most %d characters", field, maxLen)
	}
	return v, nil
}

// checkEmail checks customer_email loosely: one @ with text on both sides.
func checkEmail(v string) error {
	v = strings.TrimSpace(v)
	at := strings.LastIndexByte(v, '@')
	bad := func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }
	if at < 1 || at == len(v)-1 || len(v) > maxEmailLen || strings.ContainsFunc(v, bad) {
		return fieldError("customer_email", "customer_email must be an address such as "+
			"john@example.com")
	}
	return nil
}

// features checks the feature names and returns them sorted without
// duplicates.
func features(in []string) ([]string, error) {
	if len(in) > scythe.MaxFeatures {
		return nil, fieldError("features", "at most %d features", scythe.MaxFeatures)
	}
	out := make([]string, 0, len(in))
	for i, f := range in {
		f, err := text(fmt.Sprintf("features[%d]", i), f, scythe.MaxFeatureLen)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// expiry reads expiry_date for a license of type typ. A perpetual license
// has none; a subscription must have one; a trial without one runs
// DefaultTrialDays. The expiry must be in the future.
func expiry(typ string, date *string, now time.Time) (*time.Time, error) {
	if date == nil || *date == "" {
		switch typ {
		case scythe.TypeSubscription:
			return nil, fieldError("expiry_date", "a subscription needs an expiry_date")
		case scythe.TypeTrial:
			t := now.UTC().Truncate(time.Second).AddDate(0, 0, DefaultTrialDays)
			return &t, nil
		}
		return nil, nil
	}
	if typ == scythe.TypePerpetual {
		return nil, fieldError("expiry_date", "a perpetual license has no expiry_date")
	}
	t, err := parseExpiry(*date)
	if err != nil {
		return nil, err
	}
	if !t.After(now) {
		return nil, fieldError("expiry_date", "expiry_date must be in the future")
	}
	return &t, nil
}

// parseExpiry reads a date, meaning the end of that day in UTC, or an RFC
// 3339 time, truncated to the second as the key carries it. The end must fall
// before the year 10000, which neither RFC 3339 nor the stores can write.
func parseExpiry(v string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, v)
	if err == nil {
		t = t.AddDate(0, 0, 1)
	} else if t, err = time.Parse(time.RFC3339, v); err == nil {
		t = t.UTC().Truncate(time.Second)
	}
	if err != nil || t.Year() > 9999 {
		return time.Time{}, fieldError("expiry_date",
			"expiry_date must be a date such as 2030-01-01 or an RFC 3339 time "+
				"before the year 10000")
	}
	return t, nil
}
