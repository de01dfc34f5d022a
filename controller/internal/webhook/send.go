package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// errDisabled ends a delivery to a webhook that was disabled after it was queued.
var errDisabled = errors.New("webhook disabled")

// deliver claims due deliveries and sends them, Workers at a time, until none is due.
func (s *Service) deliver(ctx context.Context) {
	for ctx.Err() == nil {
		now := s.cfg.Now()
		ds, err := s.st.Deliveries().Claim(ctx, s.cfg.Owner, now, now.Add(s.cfg.Lease),
			2*s.cfg.Workers)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("claim deliveries", "error", err)
			}
			return
		}
		if len(ds) == 0 {
			return
		}
		var g errgroup.Group
		g.SetLimit(s.cfg.Workers)
		for i := range ds {
			g.Go(func() error {
				s.send(ctx, &ds[i])
				return nil
			})
		}
		_ = g.Wait()
	}
}

// send makes the claimed attempt of d to its webhook.
func (s *Service) send(ctx context.Context, d *store.Delivery) {
	w, err := s.st.Webhooks().Get(ctx, "", d.WebhookID)
	if errors.Is(err, store.ErrNotFound) {
		return // deleted meanwhile, with its deliveries
	}
	if err != nil {
		s.log.Warn("load webhook of delivery", "delivery_id", d.ID, "error", err)
		return
	}
	s.attempt(ctx, w, d)
}

// attempt sends the claimed attempt d.Attempts of d to w and records it: a 2xx reply ends
// the delivery; anything else is tried again later, or ends it as failed once its time
// is up. An attempt cut short because this controller is stopping is due again at once.
func (s *Service) attempt(ctx context.Context, w *store.Webhook, d *store.Delivery) {
	started := s.cfg.Now()
	status, dur, sendErr := s.post(ctx, w, d)
	wctx := context.WithoutCancel(ctx)
	now := s.cfg.Now()
	o := store.Outcome{StartedAt: started, Duration: dur, StatusCode: status}
	switch {
	case sendErr == nil && status >= 200 && status < 300:
		o.Succeeded, o.Done = true, true
	case errors.Is(sendErr, errDisabled):
		o.Error, o.Done = sendErr.Error(), true
	case ctx.Err() != nil:
		o.Error, o.Retry = "interrupted: the controller stopped", now
	default:
		retry, ok := s.cfg.Retry.Next(d.CreatedAt, now, d.Attempts, s.cfg.Rand())
		o.Error, o.Retry, o.Done = attemptError(status, sendErr), retry, !ok
	}
	err := s.st.Deliveries().Record(wctx, d, o, now)
	if errors.Is(err, store.ErrLeaseLost) {
		s.log.Info("delivery moved on before its attempt was recorded", "delivery_id", d.ID)
		return
	}
	if err != nil {
		s.log.Warn("record delivery attempt", "delivery_id", d.ID, "error", err)
		return
	}
	s.metrics.observe(d.EventType, o, dur)
	s.settle(wctx, w, d, o, now)
}

// post signs d's payload now and sends it to w. It returns the reply's status (0 for
// none) and how long the attempt took.
func (s *Service) post(ctx context.Context, w *store.Webhook, d *store.Delivery) (int,
	time.Duration, error) {
	if !w.Enabled && d.EventType != store.EventWebhookTest {
		return 0, 0, errDisabled
	}
	secret, err := s.secret(w)
	if err != nil {
		return 0, 0, err
	}
	body := []byte(d.Payload)
	rep, err := post(ctx, s.client, s.cfg.UserAgent, request{url: w.URL, event: d.EventType,
		delivery: d.ID, sig: Sign(secret, s.cfg.Now().Unix(), body), body: body})
	return rep.status, rep.duration, err
}

// attemptError says why an attempt failed, without the URL (which may hold a token).
func attemptError(status int, err error) string {
	if err == nil {
		return fmt.Sprintf("HTTP %d", status)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var blocked *BlockedError
	if errors.As(err, &blocked) {
		return "refused: " + blocked.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out: " + err.Error()
	}
	return err.Error()
}

// settle logs the attempt and keeps the webhook's health: a success clears its failing
// spell; a failure extends it, and a spell of DisableAfter turns the webhook off.
func (s *Service) settle(ctx context.Context, w *store.Webhook, d *store.Delivery,
	o store.Outcome, now time.Time) {
	log := s.log.With("webhook_id", w.ID, "delivery_id", d.ID, "event", d.EventType,
		"attempt", d.Attempts, "status_code", o.StatusCode,
		"duration_ms", o.Duration.Milliseconds())
	if o.Succeeded {
		log.Info("webhook delivered")
		if err := s.st.Webhooks().RecordSuccess(ctx, w.ID, now); err != nil {
			log.Warn("record webhook success", "error", err)
		}
		return
	}
	if o.Done {
		log.Info("webhook delivery failed for good", "reason", o.Error)
	} else {
		log.Info("webhook delivery failed; will retry", "reason", o.Error,
			"retry_at", o.Retry.UTC().Format(time.RFC3339))
	}
	if d.EventType == store.EventWebhookTest || !w.Enabled {
		return
	}
	since, err := s.st.Webhooks().RecordFailure(ctx, w.ID, now)
	if err != nil {
		log.Warn("record webhook failure", "error", err)
		return
	}
	if now.Sub(since) >= s.cfg.DisableAfter {
		s.disable(ctx, w, since, o.Error)
	}
}

// disable turns w off after failing since since, with a system.alert to its account.
func (s *Service) disable(ctx context.Context, w *store.Webhook, since time.Time,
	lastError string) {
	reason := fmt.Sprintf("every delivery failed since %s", since.UTC().Format(time.RFC3339))
	alert, err := store.NewEvent(w.AccountID, store.EventSystemAlert, alertData(w.AccountID,
		"webhook_disabled", "webhook "+w.ID+" was disabled: "+reason, map[string]any{
			"webhook_id": w.ID, "failing_since": since.UTC().Format(time.RFC3339),
			"last_error": lastError,
		}), s.cfg.Now())
	if err != nil {
		s.log.Warn("build webhook disabled alert", "webhook_id", w.ID, "error", err)
		return
	}
	done, err := s.st.Webhooks().Disable(ctx, w.ID, reason, alert, s.cfg.Now())
	if err != nil {
		s.log.Warn("disable webhook", "webhook_id", w.ID, "error", err)
		return
	}
	if done {
		s.log.Warn("webhook disabled", "webhook_id", w.ID, "account_id", w.AccountID,
			"reason", reason)
		s.Wake()
	}
}
