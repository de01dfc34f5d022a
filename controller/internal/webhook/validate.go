package webhook

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// Limits of a webhook's fields.
const (
	maxURLLen         = 2048
	maxSecretLen      = 256
	maxDescriptionLen = 500
	// checkTimeout bounds the name lookup of a new webhook's host.
	checkTimeout = 3 * time.Second
)

// Events lists the events a webhook may subscribe to, as the contract names them.
var Events = []string{
	store.EventBackupStarted, store.EventBackupCompleted, store.EventBackupFailed,
	store.EventRestoreStarted, store.EventRestoreCompleted, store.EventRestoreFailed,
	store.EventSystemAlert,
}

// FieldError is a request field the service refuses, with a message for the client.
type FieldError struct {
	Field   string
	Message string
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldError(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// checkURL parses a webhook's URL: http or https, a host, no credentials. Unless private
// targets are allowed, a host that is, or resolves to, a blocked address is refused. A
// name that does not resolve now is accepted: it is checked again, address by address,
// at every delivery.
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxURLLen {
		return "", fieldError("url", "url must be 1 to %d characters", maxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", fieldError("url", "url must be an absolute http:// or https:// URL")
	}
	if u.User != nil {
		return "", fieldError("url", "url must not hold credentials; sign with the secret")
	}
	if s.cfg.AllowPrivate {
		return u.String(), nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "", fieldError("url", "url targets this machine (localhost); webhooks may "+
			"not target it without --allow-private-webhooks")
	}
	lctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	addrs, err := resolve(lctx, s.cfg.Lookup, host)
	if err != nil {
		return u.String(), nil
	}
	for _, a := range addrs {
		var blocked *BlockedError
		if errors.As(CheckAddr(a), &blocked) {
			return "", fieldError("url", "url resolves to %s", blocked.Error())
		}
	}
	return u.String(), nil
}

// checkEvents returns the events without repeats, each one the contract names.
func checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, fieldError("events", "events must name at least one of %s",
			strings.Join(Events, ", "))
	}
	var out []string
	for i, e := range events {
		if !slices.Contains(Events, e) {
			return nil, fieldError(fmt.Sprintf("events[%d]", i), "events[%d] must be one of %s",
				i, strings.Join(Events, ", "))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// checkSecret returns the secret to sign with: the given one, or a new random one when
// none is given.
func checkSecret(secret string) (string, error) {
	if secret == "" {
		var b [32]byte
		_, _ = rand.Read(b[:])
		return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
	}
	if len(secret) > maxSecretLen || strings.ContainsFunc(secret, unicode.IsControl) {
		return "", fieldError("secret", "secret must be at most %d characters without "+
			"control characters", maxSecretLen)
	}
	return secret, nil
}

func checkDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if len(d) > maxDescriptionLen || strings.ContainsFunc(d, unicode.IsControl) {
		return "", fieldError("description", "description must be at most %d characters "+
			"without control characters", maxDescriptionLen)
	}
	return d, nil
}
