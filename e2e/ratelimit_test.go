package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testdb"
	"github.com/grim-reaper/grim/internal/testkit"
)

// TestTwoControllersShareRateLimits runs two controller processes on one
// PostgreSQL database and spreads a FREE account's requests over both: the
// account gets 60 in the minute between them, not 60 each.
func TestTwoControllersShareRateLimits(t *testing.T) {
	if !testdb.Postgres() {
		t.Skip("controllers share state only through PostgreSQL (GRIM_TEST_DB=postgres)")
	}
	a := startController(t, controllerOptions{})
	b := &controller{dataDir: t.TempDir(), dbURL: a.dbURL, adminKey: a.adminKey,
		httpAddr:  fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)),
		agentAddr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))}
	master, err := os.ReadFile(filepath.Join(a.dataDir, "master.key"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(b.dataDir, "master.key"), master, 0o600))
	b.run(t, nil)

	status, body := a.call(t, "POST", "/api/admin/users", a.adminKey, map[string]any{
		"email": "free@example.com", "password": "a long enough password", "plan": "FREE"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	key := body["key"].(string)

	// The processes keep real time: start early in a minute so that the
	// requests below all fall in one window.
	if left := time.Until(time.Now().Truncate(time.Minute).Add(time.Minute)); left < 20*time.Second {
		time.Sleep(left + 100*time.Millisecond)
	}
	counts := map[int]int{}
	for i := range 90 {
		c := a
		if i%2 == 1 {
			c = b
		}
		status, _ := c.call(t, "GET", "/api/keys", key, nil)
		counts[status]++
	}
	assert.Equal(t, map[int]int{http.StatusOK: 60, http.StatusTooManyRequests: 30}, counts)
}
