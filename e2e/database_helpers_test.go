package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/dbtest"
)

// connOf is the connection of a request for a database on s.
func connOf(s *dbtest.Server, db string) map[string]any {
	return map[string]any{"host": s.Host, "port": s.Port, "database": db, "username": s.User}
}

// createJob posts a backup or restore and returns its id.
func (c *controller) createJob(t *testing.T, path string, body map[string]any) string {
	t.Helper()
	status, reply := c.call(t, "POST", path, c.adminKey, body)
	require.Equal(t, http.StatusAccepted, status, "%v", reply)
	for _, k := range []string{"backup_id", "restore_id"} {
		if id, ok := reply[k].(string); ok {
			return id
		}
	}
	t.Fatalf("no id in %v", reply)
	return ""
}

// waitJob polls a backup or restore until it ends and returns it.
func (c *controller) waitJob(t *testing.T, kind, id string, limit time.Duration) map[string]any {
	t.Helper()
	var job map[string]any
	waitFor(t, limit, kind+" "+id+" done", func() bool {
		status, body := c.call(t, "GET", "/api/"+kind+"/"+id, c.adminKey, nil)
		require.Equal(t, http.StatusOK, status, "%v", body)
		job = body[kind].(map[string]any)
		s := job["status"]
		return s == "completed" || s == "failed" || s == "canceled"
	})
	return job
}

// backupDB backs up the sources with the agent and waits for the end.
func (c *controller) backupDB(t *testing.T, agent string, sources ...map[string]any) map[string]any {
	t.Helper()
	list := make([]any, len(sources))
	for i, s := range sources {
		list[i] = s
	}
	id := c.createJob(t, "/api/backup/create", map[string]any{"agent": agent, "sources": list})
	return c.waitJob(t, "backup", id, 3*time.Minute)
}

func dbSource(s *dbtest.Server, db string) map[string]any {
	return map[string]any{"type": "database", "engine": s.Engine, "connection": connOf(s, db)}
}

// startAgentEnv starts an enrolled agent with more environment variables.
func startAgentEnv(t *testing.T, c *controller, name string, env []string) *agent {
	t.Helper()
	a := &agent{stateDir: t.TempDir(), name: name}
	args := []string{"run", "--controller", c.agentAddr, "--state-dir", a.stateDir,
		"--name", name, "--token", c.joinToken(t), "--log-format", "json", "--log-level", "debug"}
	a.process = start(t, "grim-agent", env, args...)
	c.waitOnline(t, name, "")
	return a
}

// cmdlinesContain reports whether any process's argument list holds s.
func cmdlinesContain(s string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		raw, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(raw), s) {
			return true
		}
	}
	return false
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return string(raw)
}
