package license

import (
	"context"
	"errors"

	"github.com/grim-reaper/grim/controller/internal/idempotency"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// IdempotencyWindow is how long a repeat of a generate request with the same
// Idempotency-Key answers the license the first one issued.
const IdempotencyWindow = idempotency.Window

// ErrIdempotencyReuse means an Idempotency-Key came again within the window
// with a different request.
var ErrIdempotencyReuse = idempotency.ErrReuse

// requestHash is a digest of what req asks for, blind to the JSON's layout.
func requestHash(req Request) (string, error) { return idempotency.Hash(req) }

// checkIdempotencyKey checks the header's value: printable text.
func checkIdempotencyKey(key string) error {
	if err := idempotency.CheckKey(key); err != nil {
		return fieldError("Idempotency-Key", "%s", err)
	}
	return nil
}

// replay returns the license an earlier request with the same key and hash
// issued within the window, or nil when there is none and Generate should
// issue one. A key last used longer ago is freed for reuse.
func (s *Service) replay(ctx context.Context, accountID, key, hash string) (*store.License,
	error,
) {
	lic, err := s.st.Licenses().ByIdempotencyKey(ctx, accountID, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	switch err := idempotency.Judge(s.now(), lic.CreatedAt, lic.RequestHash, hash); {
	case errors.Is(err, idempotency.ErrExpired):
		return nil, s.st.Licenses().ForgetIdempotencyKey(ctx, lic.ID)
	case err != nil:
		return nil, err
	}
	return lic, nil
}
