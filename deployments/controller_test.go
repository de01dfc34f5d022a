package deployments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testkit"
)

// controller is a grim-controller from an unpacked controller package, on loopback.
type controller struct {
	dataDir, httpAddr, agentAddr string
	key                          string
	proc                         *process
	rel                          *build
}

func startController(t *testing.T, rel *build) *controller {
	t.Helper()
	c := &controller{dataDir: t.TempDir(),
		httpAddr:  fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)),
		agentAddr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))}
	c.run(t, rel)
	raw, err := os.ReadFile(filepath.Join(c.dataDir, "admin-api-key"))
	require.NoError(t, err)
	c.key = strings.TrimSpace(string(raw))
	return c
}

// run starts the release's controller on the same data and ports.
func (c *controller) run(t *testing.T, rel *build) {
	t.Helper()
	c.rel = rel
	c.proc = start(t, filepath.Join(rel.ctlRoot, "usr/bin/grim-controller"), nil, "serve",
		"--config=", "--data-dir", c.dataDir, "--http-addr", c.httpAddr,
		"--agent-addr", c.agentAddr, "--downloads-dir", rel.downloads, "--heartbeat", "1s")
	waitFor(t, 30*time.Second, "controller healthy", func() bool {
		require.False(t, c.proc.exited(), "controller exited:\n%s", c.proc.logs.String())
		resp, err := http.Get(c.url() + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (c *controller) url() string { return "http://" + c.httpAddr }

func (c *controller) grim(t *testing.T, args ...string) map[string]any {
	t.Helper()
	return grimJSON(t, filepath.Join(c.rel.ctlRoot, "usr/bin/grim"), c.url(), c.key, args...)
}

// call sends a JSON request with the admin key and decodes the reply.
func (c *controller) call(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.url()+path, r)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

// agentSeen waits until the only agent is online with version and returns it.
func (c *controller) agentSeen(t *testing.T, version string) map[string]any {
	t.Helper()
	var found map[string]any
	waitFor(t, 60*time.Second, "agent online at "+version, func() bool {
		_, m := c.call(t, "GET", "/api/agents", nil)
		agents, _ := m["agents"].([]any)
		require.LessOrEqual(t, len(agents), 1, "one host enrols once: %v", agents)
		if len(agents) == 0 {
			return false
		}
		a := agents[0].(map[string]any)
		found = a
		return a["status"] == "online" && a["version"] == version
	})
	return found
}

// backup backs paths up with the only agent and waits for it to complete.
func (c *controller) backup(t *testing.T, paths ...string) map[string]any {
	t.Helper()
	b := c.grim(t, append([]string{"backup", "create", "--wait"}, paths...)...)
	require.Equal(t, "completed", b["status"], "backup: %v", b)
	return b
}
