// Package webhook delivers events to the HTTP endpoints that accounts register, and
// raises the system alerts.
//
// Events come from an outbox in the database (store.Events): a job's transition writes
// its event in the transaction that records the transition, and Alert writes alerts. A
// dispatcher fans each event out into one delivery per subscribed webhook; senders claim
// due deliveries under a lease, sign and POST them, and record each attempt. A failed
// attempt is retried with growing, jittered delays for a bounded time, under the same
// delivery id. Nothing of this lives only in memory: a controller that stops loses no
// delivery, and several controllers on one database never send the same attempt twice.
//
// Deliveries go out through a client that refuses loopback, private, link-local, CGNAT
// and metadata addresses (checked at connect time, after resolution) unless private
// targets are allowed, follows no redirects, and bounds its time.
package webhook

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grim-reaper/grim/controller/internal/store"
)

// Secrets seals webhook secrets for storage and opens them to sign.
type Secrets interface {
	SealSecret(accountID, plain string) (string, error)
	OpenSecret(accountID, sealed string) (string, error)
}

// Config are the service's collaborators and settings. Store and Secrets are required;
// every other field has a default.
type Config struct {
	Store   *store.Store
	Secrets Secrets
	Logger  *slog.Logger
	// AllowPrivate lets webhooks target loopback and private addresses
	// (--allow-private-webhooks).
	AllowPrivate bool
	// Retry is the schedule of attempts after a failure.
	Retry Retry
	// DisableAfter turns a webhook off that has failed every attempt for this long.
	DisableAfter time.Duration
	// Alerts tunes the system alerts the service raises itself.
	Alerts AlertConfig
	// Poll is how often the outbox is looked at without a wake-up.
	Poll time.Duration
	// Lease is how long a claimed attempt stays this controller's; it must exceed
	// ConnectTimeout plus ResponseTimeout.
	Lease time.Duration
	// ConnectTimeout bounds connecting and the TLS handshake; ResponseTimeout the wait
	// for the reply's headers after the request was sent.
	ConnectTimeout, ResponseTimeout time.Duration
	// MaxPayloadBytes bounds the body of a delivery.
	MaxPayloadBytes int
	// Workers is how many deliveries are sent at once.
	Workers int
	// Owner names this controller in delivery leases; empty means a random name.
	Owner string
	// UserAgent is sent with every delivery.
	UserAgent string
	// Lookup resolves host names; nil means the system's resolver.
	Lookup LookupFunc
	// Now is the clock and Rand the source of jitter, in [0, 1).
	Now  func() time.Time
	Rand func() float64
	// Registerer receives the delivery metrics; nil registers them nowhere.
	Registerer prometheus.Registerer
}

// Defaults of Config.
const (
	DefaultDisableAfter    = 72 * time.Hour
	DefaultPoll            = time.Second
	DefaultConnectTimeout  = 5 * time.Second
	DefaultResponseTimeout = 10 * time.Second
	DefaultMaxPayloadBytes = 64 << 10
	// keepLog is how long ended deliveries and dispatched events are kept.
	keepLog    = 30 * 24 * time.Hour
	pruneEvery = time.Hour
)

func (c *Config) defaults() {
	c.Retry.defaults()
	c.Alerts.defaults()
	if c.DisableAfter <= 0 {
		c.DisableAfter = DefaultDisableAfter
	}
	if c.Poll <= 0 {
		c.Poll = DefaultPoll
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ResponseTimeout <= 0 {
		c.ResponseTimeout = DefaultResponseTimeout
	}
	if floor := 2*(c.ConnectTimeout+c.ResponseTimeout) + 10*time.Second; c.Lease < floor {
		c.Lease = floor
	}
	if c.MaxPayloadBytes <= 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if c.Workers <= 0 {
		c.Workers = 8
	}
	if c.Owner == "" {
		c.Owner = store.NewID("ctl")
	}
	if c.UserAgent == "" {
		c.UserAgent = "Grim-Reaper-Webhooks/1"
	}
	if c.Lookup == nil {
		c.Lookup = defaultLookup
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Float64
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Service manages webhooks and runs their outbox. It is safe for concurrent use.
type Service struct {
	cfg     Config
	st      *store.Store
	log     *slog.Logger
	client  *http.Client
	alerts  *Alerter
	metrics *metrics
	wake    chan struct{}

	mu      sync.Mutex        // guards secrets
	secrets map[string][]byte // opened secrets by webhook id; a secret never changes

	// lastPrune and lastWatch are when the run loop last pruned and watched; only it
	// touches them.
	lastPrune, lastWatch time.Time
}

// New returns the service; Run starts its outbox.
func New(cfg Config) *Service {
	cfg.defaults()
	s := &Service{cfg: cfg, st: cfg.Store, log: cfg.Logger.With("component", "webhooks"),
		wake: make(chan struct{}, 1), secrets: make(map[string][]byte)}
	s.client = newClient(clientOptions{allowPrivate: cfg.AllowPrivate,
		connectTimeout: cfg.ConnectTimeout, responseTimeout: cfg.ResponseTimeout,
		lookup: cfg.Lookup})
	s.alerts = &Alerter{events: cfg.Store.Events(), now: cfg.Now, wake: s.Wake, log: s.log}
	s.metrics = newMetrics(cfg.Registerer, cfg.Store)
	return s
}

// Alerter returns the service's alerter, for the parts of the controller that raise
// system alerts.
func (s *Service) Alerter() *Alerter { return s.alerts }

// Wake makes the outbox look for work now, after an event was recorded.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run works the outbox until ctx ends: it fans out new events, sends due deliveries,
// watches for the conditions that raise alerts, and prunes old deliveries. It returns
// once every delivery it started has been recorded or abandoned to its lease.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		s.dispatch(ctx)
		s.deliver(ctx)
		s.watch(ctx)
		s.prune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// prune deletes the log of deliveries and events older than keepLog, once an hour.
func (s *Service) prune(ctx context.Context) {
	now := s.cfg.Now()
	if now.Sub(s.lastPrune) < pruneEvery {
		return
	}
	s.lastPrune = now
	if _, err := s.st.Deliveries().Prune(ctx, now.Add(-keepLog)); err != nil && ctx.Err() == nil {
		s.log.Warn("prune deliveries", "error", err)
	}
	if _, err := s.st.Events().Prune(ctx, now.Add(-keepLog)); err != nil && ctx.Err() == nil {
		s.log.Warn("prune events", "error", err)
	}
}

// secret returns the webhook's secret, opened once and then kept.
func (s *Service) secret(w *store.Webhook) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.secrets[w.ID]; ok {
		return b, nil
	}
	plain, err := s.cfg.Secrets.OpenSecret(w.AccountID, w.Secret)
	if err != nil {
		return nil, errors.New("webhook secret does not open under this controller's master key")
	}
	s.secrets[w.ID] = []byte(plain)
	return s.secrets[w.ID], nil
}
