package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/keyring"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/internal/testkit"
)

// clock is the settable clock of the tests.
type clock = testkit.Clock

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

// receiver is a real HTTP server on loopback that records what it is sent and answers
// with the statuses it is told, then 200.
type receiver struct {
	*httptest.Server

	mu       sync.Mutex // guards the fields below
	got      []received
	statuses []int
	arrived  chan struct{}
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses, arrived: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, at: time.Now()})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		r.arrived <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

// requests returns what arrived so far.
func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// wait waits until n requests arrived in all.
func (r *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for len(r.requests()) < n {
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("receiver got %d requests, want %d", len(r.requests()), n)
		}
	}
	return r.requests()
}

// world is a store with an admin, a user and one of the user's agents.
type world struct {
	st      *store.Store
	secrets *keyring.Keyring
	admin   *store.Account
	user    *store.Account
	agent   *store.Agent
}

func newWorld(t *testing.T, st *store.Store) *world {
	t.Helper()
	ctx := context.Background()
	master, err := keyring.LoadOrCreateMaster(t.TempDir(), "")
	require.NoError(t, err)
	w := &world{st: st, secrets: keyring.New(master, st),
		admin: &store.Account{Email: "admin@example.com", Role: store.RoleAdmin},
		user:  &store.Account{Email: "user@example.com"}}
	require.NoError(t, st.Accounts().Create(ctx, w.admin))
	require.NoError(t, st.Accounts().Create(ctx, w.user))
	now := time.Now()
	tok := &store.JoinToken{AccountID: w.user.ID, SecretHash: "h", ExpiresAt: now.Add(time.Hour)}
	require.NoError(t, st.JoinTokens().Create(ctx, tok))
	w.agent = &store.Agent{Name: "web-1", Hostname: "web-1.lan", CertSerial: store.NewID("s")}
	require.NoError(t, st.JoinTokens().EnrollAgent(ctx, tok.ID, "h", now, w.agent))
	return w
}

// service returns a service on the world's store that may target loopback, with short
// delays; mods adjust its config.
func (w *world) service(mods ...func(*Config)) *Service {
	cfg := Config{Store: w.st, Secrets: w.secrets, AllowPrivate: true, Poll: 10 * time.Millisecond,
		Retry: Retry{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond,
			GiveUpAfter: time.Hour}, ConnectTimeout: time.Second, ResponseTimeout: time.Second}
	for _, m := range mods {
		m(&cfg)
	}
	return New(cfg)
}

// hook creates a webhook of the account for events at url and returns it with its secret.
func hook(t *testing.T, s *Service, accountID, url string, events ...string) (
	*store.Webhook, string) {
	t.Helper()
	w, secret, err := s.Create(context.Background(), accountID, CreateRequest{URL: url,
		Events: events, Description: "test"})
	require.NoError(t, err)
	return w, secret
}

// runService runs s until the test ends.
func runService(t *testing.T, s *Service) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	stop := func() {
		cancel()
		<-done
	}
	t.Cleanup(stop)
	return stop
}

// body decodes a delivery's body.
func body(t *testing.T, r received) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), string(r.body))
	return m
}

func openStore(t *testing.T) *store.Store { return storetest.Open(t) }
