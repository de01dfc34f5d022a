package license

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// IdempotencyWindow is how long a repeat of a generate request with the same
// Idempotency-Key answers the license the first one issued.
const IdempotencyWindow = 24 * time.Hour

// maxIdempotencyKeyLen bounds an Idempotency-Key.
const maxIdempotencyKeyLen = 255

// ErrIdempotencyReuse means an Idempotency-Key came again within the window
// with a different request.
var ErrIdempotencyReuse = errors.New("idempotency key reused with a different request")

// requestHash is a digest of what req asks for, blind to the JSON's layout.
func requestHash(req Request) (string, error) {
	raw, err := json.Marshal(req)
	if err != nil {
		return "", fmt.Errorf("hash request: %w", err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

// checkIdempotencyKey checks the header's value: printable text.
func checkIdempotencyKey(key string) error {
	if key == "" || len(key) > maxIdempotencyKeyLen ||
		strings.ContainsFunc(key, func(r rune) bool {
			return r > unicode.MaxASCII ||
				!unicode.IsPrint(r)
		}) {
		return fieldError("Idempotency-Key", "Idempotency-Key must be 1 to %d printable "+
			"ASCII characters", maxIdempotencyKeyLen)
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
	if s.now().Sub(lic.CreatedAt) >= IdempotencyWindow {
		return nil, s.st.Licenses().ForgetIdempotencyKey(ctx, lic.ID)
	}
	if lic.RequestHash != hash {
		return nil, ErrIdempotencyReuse
	}
	return lic, nil
}
