package idempotency

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckKey(t *testing.T) {
	for key, ok := range map[string]bool{
		"abc": true, "order-42/retry 1": true, strings.Repeat("k", MaxKeyLen): true,
		"": false, strings.Repeat("k", MaxKeyLen+1): false, "tab\there": false, "clé": false,
	} {
		assert.Equal(t, ok, CheckKey(key) == nil, "%q", key)
	}
}

func TestHashIgnoresLayout(t *testing.T) {
	type req struct {
		A string `json:"a"`
		B []int  `json:"b"`
	}
	h1, err := Hash(req{A: "x", B: []int{1, 2}})
	require.NoError(t, err)
	h2, err := Hash(req{A: "x", B: []int{1, 2}})
	require.NoError(t, err)
	h3, err := Hash(req{A: "x", B: []int{2, 1}})
	require.NoError(t, err)
	assert.Equal(t, h1, h2)
	assert.NotEqual(t, h1, h3)
	assert.Len(t, h1, 64)
}

func TestJudge(t *testing.T) {
	made := time.Unix(1000, 0)
	assert.NoError(t, Judge(made.Add(time.Hour), made, "h", "h"))
	assert.ErrorIs(t, Judge(made.Add(time.Hour), made, "h", "other"), ErrReuse)
	assert.ErrorIs(t, Judge(made.Add(Window), made, "h", "other"), ErrExpired)
	assert.ErrorIs(t, Judge(made.Add(Window), made, "h", "h"), ErrExpired)
}
