package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/idempotency"
	"github.com/grim-reaper/grim/internal/testkit"
)

func TestCreateChecksFields(t *testing.T) {
	w := newWorld(t, openStore(t))
	s := w.service()
	ok := CreateRequest{URL: "https://hooks.example.com/x", Events: []string{"backup.failed"}}
	cases := []struct {
		name  string
		edit  func(*CreateRequest)
		field string
	}{
		{"no url", func(r *CreateRequest) { r.URL = "" }, "url"},
		{"relative url", func(r *CreateRequest) { r.URL = "/hook" }, "url"},
		{"ftp url", func(r *CreateRequest) { r.URL = "ftp://example.com/" }, "url"},
		{"credentials in url", func(r *CreateRequest) { r.URL = "https://u:p@example.com/" }, "url"},
		{"long url", func(r *CreateRequest) { r.URL = "https://e.com/" + strings.Repeat("a", 2100) },
			"url"},
		{"no events", func(r *CreateRequest) { r.Events = nil }, "events"},
		{"unknown event", func(r *CreateRequest) { r.Events = []string{"backup.failed", "x"} },
			"events[1]"},
		{"long secret", func(r *CreateRequest) { r.Secret = strings.Repeat("s", 257) }, "secret"},
		{"control in secret", func(r *CreateRequest) { r.Secret = "a\nb" }, "secret"},
		{"long description", func(r *CreateRequest) { r.Description = strings.Repeat("d", 501) },
			"description"},
		{"bad idempotency key", func(r *CreateRequest) { r.IdempotencyKey = "ünïcode" },
			"Idempotency-Key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := ok
			c.edit(&req)
			_, _, err := s.Create(context.Background(), w.user.ID, req)
			var field *FieldError
			require.ErrorAs(t, err, &field)
			assert.Equal(t, c.field, field.Field)
		})
	}

	got, secret, err := s.Create(context.Background(), w.user.ID, CreateRequest{URL: ok.URL,
		Events: []string{"backup.failed", "backup.failed", "system.alert"}})
	require.NoError(t, err)
	assert.Equal(t, `["backup.failed","system.alert"]`, got.Events, "repeats dropped")
	assert.Regexp(t, `^whsec_[A-Za-z0-9_-]{43}$`, secret, "a secret is made when none is given")
	assert.NotContains(t, got.Secret, secret, "stored sealed")
	assert.True(t, strings.HasPrefix(got.Secret, "sealed:v1:"))
}

func TestCreateIdempotent(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, openStore(t))
	clk := testkit.NewClock(time.Now())
	s := w.service(func(c *Config) { c.Now = clk.Now })
	req := CreateRequest{URL: "https://hooks.example.com/a", Events: []string{"backup.failed"},
		IdempotencyKey: "key-1"}

	first, secret, err := s.Create(ctx, w.user.ID, req)
	require.NoError(t, err)
	again, secret2, err := s.Create(ctx, w.user.ID, req)
	require.NoError(t, err)
	assert.Equal(t, first.ID, again.ID)
	assert.Equal(t, secret, secret2, "the first reply again, secret included")

	other := req
	other.URL = "https://hooks.example.com/b"
	_, _, err = s.Create(ctx, w.user.ID, other)
	assert.ErrorIs(t, err, idempotency.ErrReuse)

	bob, _, err := s.Create(ctx, w.admin.ID, req)
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, bob.ID, "keys are per account")

	clk.Advance(idempotency.Window + time.Second)
	later, _, err := s.Create(ctx, w.user.ID, other)
	require.NoError(t, err)
	assert.NotEqual(t, first.ID, later.ID, "past the window the key is free")
	list, total, err := w.st.Webhooks().List(ctx, w.user.ID, 10, 0)
	require.NoError(t, err)
	assert.EqualValues(t, 2, total)
	assert.Len(t, list, 2)
}
