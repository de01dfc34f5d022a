package agenthub

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/protocol/jointoken"
)

func replaceID(t *testing.T, token, id string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 4)
	parts[1] = id
	return strings.Join(parts, ".")
}

// replaceSecret keeps the token's id and pin but swaps in a fresh secret.
func replaceSecret(t *testing.T, token string) string {
	t.Helper()
	tok, err := jointoken.Parse(token)
	require.NoError(t, err)
	other, err := jointoken.New(tok.ID, tok.CAFingerprint)
	require.NoError(t, err)
	return other.String()
}
