package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/auth"
	"github.com/grim-reaper/grim/controller/internal/ratelimit"
	"github.com/grim-reaper/grim/controller/internal/store"
	"github.com/grim-reaper/grim/controller/internal/store/storetest"
	"github.com/grim-reaper/grim/internal/testkit"
)

// tenPast is ten seconds past a minute, so the minute's reset is 50 s away.
var tenPast = time.Date(2026, 3, 1, 12, 30, 10, 0, time.UTC)

func TestFreePlanGetsExactlySixtyRequestsAMinute(t *testing.T) {
	env := newEnv(t)
	env.clock.Set(tenPast)
	_, key := env.account("free@example.com", store.RoleUser, "full")
	reset := strconv.FormatInt(tenPast.Truncate(time.Minute).Add(time.Minute).Unix(), 10)

	for i := range 60 {
		rec := env.do("GET", "/api/user/profile", key, nil)
		require.Equal(t, http.StatusOK, rec.Code, "request %d: %s", i+1, rec.Body.String())
		assert.Equal(t, "60", rec.Header().Get(HeaderRateLimit))
		assert.Equal(t, strconv.Itoa(59-i), rec.Header().Get(HeaderRateRemaining))
		assert.Equal(t, reset, rec.Header().Get(HeaderRateReset))
		env.clock.Advance(100 * time.Millisecond)
	}
	rec := env.do("GET", "/api/user/profile", key, nil)
	body := requireError(t, rec, http.StatusTooManyRequests, CodeRateLimited)
	assert.Equal(t, "60", rec.Header().Get(HeaderRateLimit))
	assert.Equal(t, "0", rec.Header().Get(HeaderRateRemaining))
	assert.Equal(t, reset, rec.Header().Get(HeaderRateReset))
	assert.Equal(t, "44", rec.Header().Get(HeaderRetryAfter), "50 s less the 6 s spent")
	assert.Equal(t, float64(60), body["details"].(map[string]any)["limit"])

	// Writes count too, and the limit holds for every key of the account.
	other := &store.APIKey{Name: "second", Scopes: "full"}
	full, prefix, hash, err := auth.Generate()
	require.NoError(t, err)
	other.Prefix, other.Hash = prefix, hash
	acct, err := env.store.Accounts().ByEmail(context.Background(), "free@example.com")
	require.NoError(t, err)
	other.AccountID = acct.ID
	require.NoError(t, env.store.Keys().Create(context.Background(), other))
	requireError(t, env.do("POST", "/api/keys", full, map[string]any{"name": "x"}),
		http.StatusTooManyRequests, CodeRateLimited)

	// The next minute starts afresh.
	env.clock.Set(tenPast.Truncate(time.Minute).Add(time.Minute))
	rec = env.do("GET", "/api/user/profile", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "59", rec.Header().Get(HeaderRateRemaining))
}

func TestReaperIsNeverLimited(t *testing.T) {
	env := newEnv(t)
	env.clock.Set(tenPast)
	acct, key := env.account("reaper@example.com", store.RoleUser, "full")
	reaper := store.PlanReaper
	_, err := env.store.ApplyAdminChange(context.Background(), acct.ID,
		store.AdminChange{Plan: &reaper}, tenPast)
	require.NoError(t, err)
	for i := range 1100 {
		rec := env.do("GET", "/api/user/profile", key, nil)
		require.Equal(t, http.StatusOK, rec.Code, "request %d", i+1)
		require.Empty(t, rec.Header().Get(HeaderRateLimit))
	}
	n, err := env.store.RateCounters().Count(context.Background(), "acct:"+acct.ID,
		store.Window{Secs: 60, Start: tenPast.Truncate(time.Minute).Unix()})
	require.NoError(t, err)
	assert.Zero(t, n, "REAPER requests are not even counted")
}

// TestTwoControllersShareTheCount runs two APIs on one database, each
// behind its own HTTP server, as two controllers would be, and spreads one
// FREE account's requests over both.
func TestTwoControllersShareTheCount(t *testing.T) {
	first, second := storetest.OpenPair(t)
	clk := testkit.NewClock(tenPast)
	var urls []string
	for _, st := range []*store.Store{first, second} {
		a := New(Deps{Store: st, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
		srv := httptest.NewServer(a.Handler())
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	full, prefix, hash, err := auth.Generate()
	require.NoError(t, err)
	acct := &store.Account{Email: "free@example.com", Plan: store.PlanFree}
	require.NoError(t, first.CreateAccountWithKey(context.Background(), acct,
		&store.APIKey{Name: "k", Prefix: prefix, Hash: hash, Scopes: "full"}))

	statuses := map[int]int{}
	for i := range 90 {
		req, err := http.NewRequest("GET", urls[i%2]+"/api/keys", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+full)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		statuses[resp.StatusCode]++
		if i >= 60 {
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "request %d", i+1)
		}
	}
	assert.Equal(t, map[int]int{http.StatusOK: 60, http.StatusTooManyRequests: 30}, statuses)
}

// benchRequests serves GET /api/user/profile b.N times for an account on
// plan and reports the time per request.
func benchRequests(b *testing.B, plan string) {
	st := storetest.Open(b)
	huge := []ratelimit.Limit{{Window: time.Minute, Max: 1 << 40},
		{Window: time.Hour, Max: 1 << 41}, {Window: 24 * time.Hour, Max: 1 << 42}}
	a := New(Deps{Store: st, Plans: ratelimit.Plans{store.PlanPro: huge}})
	full, prefix, hash, err := auth.Generate()
	require.NoError(b, err)
	acct := &store.Account{Email: "bench@example.com", Plan: plan}
	require.NoError(b, st.CreateAccountWithKey(context.Background(), acct,
		&store.APIKey{Name: "k", Prefix: prefix, Hash: hash, Scopes: "full"}))
	h := a.Handler()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("GET", "/api/user/profile", nil)
		req.Header.Set("Authorization", "Bearer "+full)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkRequestRateLimited is an authenticated request of a limited
// plan; BenchmarkRequestUnlimited the same request of an unlimited one. The
// difference is the limiter's cost.
func BenchmarkRequestRateLimited(b *testing.B) { benchRequests(b, store.PlanPro) }

// BenchmarkRequestUnlimited is the baseline of BenchmarkRequestRateLimited.
func BenchmarkRequestUnlimited(b *testing.B) { benchRequests(b, store.PlanReaper) }
