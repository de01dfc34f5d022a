package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/grim-reaper/grim/controller/internal/idempotency"
	"github.com/grim-reaper/grim/controller/internal/store"
)

// CreateRequest is what a new webhook asks for: the body of POST /api/webhooks.
type CreateRequest struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret"`
	Description string   `json:"description"`
	// IdempotencyKey, when set, makes a repeat within idempotency.Window answer the
	// webhook the first request made, with its secret.
	IdempotencyKey string `json:"-"`
}

// hashed is what a request's idempotency digest covers. The secret is left out, so that
// no digest of it is stored; a repeat is judged by what it subscribes where.
type hashed struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	SecretGiven bool     `json:"secret_given"`
}

// Create checks req and stores the webhook with its secret sealed. It returns the
// webhook and the secret in the clear, which the caller shows once: the given one, or a
// new random one when req has none. Refused fields answer a *FieldError; a repeated
// Idempotency-Key with another request answers idempotency.ErrReuse.
func (s *Service) Create(ctx context.Context, accountID string, req CreateRequest) (
	*store.Webhook, string, error) {
	w, secret, err := s.newWebhook(ctx, accountID, req)
	if err != nil {
		return nil, "", err
	}
	if req.IdempotencyKey != "" {
		if err := idempotency.CheckKey(req.IdempotencyKey); err != nil {
			return nil, "", fieldError("Idempotency-Key", "%s", err)
		}
		var events []string
		_ = json.Unmarshal([]byte(w.Events), &events)
		w.RequestHash, err = idempotency.Hash(hashed{URL: w.URL, Events: events,
			Description: w.Description, SecretGiven: req.Secret != ""})
		if err != nil {
			return nil, "", err
		}
		if old, plain, err := s.replay(ctx, accountID, req.IdempotencyKey, w.RequestHash); old != nil ||
			err != nil {
			return old, plain, err
		}
		w.IdempotencyKey = &req.IdempotencyKey
	}
	if w.Secret, err = s.cfg.Secrets.SealSecret(accountID, secret); err != nil {
		return nil, "", err
	}
	err = s.st.Webhooks().Create(ctx, w)
	if errors.Is(err, store.ErrConflict) && req.IdempotencyKey != "" {
		// A simultaneous request with the same key won: answer its webhook.
		return s.replay(ctx, accountID, req.IdempotencyKey, w.RequestHash)
	}
	if err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "webhook created", "webhook_id", w.ID, "account_id", accountID,
		"events", w.Events)
	return w, secret, nil
}

// newWebhook checks req and returns the webhook it asks for, without its sealed secret.
func (s *Service) newWebhook(ctx context.Context, accountID string, req CreateRequest) (
	*store.Webhook, string, error) {
	target, err := s.checkURL(ctx, req.URL)
	if err != nil {
		return nil, "", err
	}
	events, err := checkEvents(req.Events)
	if err != nil {
		return nil, "", err
	}
	secret, err := checkSecret(req.Secret)
	if err != nil {
		return nil, "", err
	}
	desc, err := checkDescription(req.Description)
	if err != nil {
		return nil, "", err
	}
	raw, err := json.Marshal(events)
	if err != nil {
		return nil, "", fmt.Errorf("encode events: %w", err)
	}
	return &store.Webhook{ID: store.NewID("wh"), AccountID: accountID, URL: target,
		Events: string(raw), Description: desc, Enabled: true,
		CreatedAt: s.cfg.Now()}, secret, nil
}

// replay returns the webhook an earlier request with the same key and digest made within
// the window, with its secret, or nil when there is none and Create should make one.
func (s *Service) replay(ctx context.Context, accountID, key, hash string) (
	*store.Webhook, string, error) {
	w, err := s.st.Webhooks().ByIdempotencyKey(ctx, accountID, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	switch err := idempotency.Judge(s.cfg.Now(), w.CreatedAt, w.RequestHash, hash); {
	case errors.Is(err, idempotency.ErrExpired):
		return nil, "", s.st.Webhooks().ForgetIdempotencyKey(ctx, w.ID)
	case err != nil:
		return nil, "", err
	}
	plain, err := s.cfg.Secrets.OpenSecret(accountID, w.Secret)
	if err != nil {
		return nil, "", fmt.Errorf("open secret of webhook %s: %w", w.ID, err)
	}
	return w, plain, nil
}

// Test queues a webhook.test delivery to the webhook (of accountID, or of any account
// for "") and makes its first attempt at once. It returns the delivery as that attempt
// left it; a failed attempt is retried like any other.
func (s *Service) Test(ctx context.Context, accountID, id string) (*store.Delivery, error) {
	w, err := s.st.Webhooks().Get(ctx, accountID, id)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	e, err := store.NewEvent(w.AccountID, store.EventWebhookTest, map[string]any{
		"webhook_id": w.ID, "message": "a test delivery asked for with the API",
	}, now)
	if err != nil {
		return nil, err
	}
	body, err := payload(e, s.cfg.MaxPayloadBytes)
	if err != nil {
		return nil, err
	}
	d := &store.Delivery{WebhookID: w.ID, EventID: e.ID, EventType: e.Type, Payload: body}
	if err := s.st.Deliveries().EnqueueLeased(ctx, d, s.cfg.Owner, now,
		now.Add(s.cfg.Lease)); err != nil {
		return nil, err
	}
	s.attempt(ctx, w, d)
	return s.st.Deliveries().Get(ctx, d.ID)
}
