package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testdb"
	"github.com/grim-reaper/grim/internal/testkit"
)

// binDir holds the binaries under test: GRIM_BIN_DIR (what `make build` wrote) or a fresh
// build made by TestMain.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	binDir = os.Getenv("GRIM_BIN_DIR")
	if binDir == "" {
		dir, err := os.MkdirTemp("", "grim-e2e-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := build(dir); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: build:", err)
			return 1
		}
		binDir = dir
	}
	return m.Run()
}

func build(dir string) error {
	for name, pkg := range map[string]string{
		"grim-controller": "../controller/cmd/grim-controller",
		"grim-agent":      "../agent/cmd/grim-agent",
		"grim":            "../cli/cmd/grim",
	} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, out)
		}
	}
	return nil
}

// logBuffer collects a process's output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// process is a started binary whose output is kept for assertions.
type process struct {
	cmd  *exec.Cmd
	logs *logBuffer
	done chan struct{}
	err  error
}

func start(t *testing.T, name string, env []string, args ...string) *process {
	t.Helper()
	p := &process{logs: &logBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, name), args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("--- %s output:\n%s", name, p.logs.String())
		}
	})
	return p
}

func (p *process) signal(sig os.Signal) {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(sig)
	}
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and returns the exit error once the process is gone.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(60 * time.Second):
		t.Fatalf("process did not stop within 60s after SIGTERM")
		return nil
	}
}

// controller is a running grim-controller.
type controller struct {
	*process
	dataDir   string
	dbURL     string
	httpAddr  string
	agentAddr string
	extra     []string
	adminKey  string
}

type controllerOptions struct {
	transports string // --agent-transports; default both
	env        []string
	extra      []string // more flags for serve
}

func startController(t *testing.T, o controllerOptions) *controller {
	t.Helper()
	c := &controller{
		dataDir:   t.TempDir(),
		dbURL:     testdb.URL(t),
		httpAddr:  fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)),
		agentAddr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)),
	}
	if o.transports != "" {
		c.extra = append(c.extra, "--agent-transports", o.transports)
	}
	c.extra = append(c.extra, o.extra...)
	c.run(t, o.env)
	raw, err := os.ReadFile(filepath.Join(c.dataDir, "admin-api-key"))
	require.NoError(t, err)
	c.adminKey = strings.TrimSpace(string(raw))
	return c
}

// run starts (or restarts) the process on the same data, database and ports.
func (c *controller) run(t *testing.T, env []string) {
	t.Helper()
	args := []string{"serve", "--config=", "--data-dir", c.dataDir, "--http-addr", c.httpAddr,
		"--agent-addr", c.agentAddr, "--heartbeat", "1s", "--log-format", "json",
		"--log-level", "debug"}
	if c.dbURL != "" {
		args = append(args, "--database-url", c.dbURL)
	}
	c.process = start(t, "grim-controller", env, append(args, c.extra...)...)
	waitFor(t, 30*time.Second, "controller healthy", func() bool {
		require.False(t, c.exited(), "controller exited:\n%s", c.logs.String())
		resp, err := http.Get("http://" + c.httpAddr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (c *controller) url(path string) string { return "http://" + c.httpAddr + path }

// call sends a JSON request with the key and decodes the JSON reply.
func (c *controller) call(t *testing.T, method, path, key string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.url(path), rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out := map[string]any{}
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "reply: %s", raw)
	}
	return resp.StatusCode, out
}

// joinToken asks the controller for a join token.
func (c *controller) joinToken(t *testing.T) string {
	t.Helper()
	status, body := c.call(t, "POST", "/api/agents/tokens", c.adminKey, map[string]any{})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	tok, _ := body["token"].(string)
	require.NotEmpty(t, tok)
	return tok
}

// agents lists the agents as the admin sees them, by name.
func (c *controller) agents(t *testing.T) map[string]map[string]any {
	t.Helper()
	status, body := c.call(t, "GET", "/api/agents?limit=100", c.adminKey, nil)
	require.Equal(t, http.StatusOK, status, "%v", body)
	out := map[string]map[string]any{}
	list, _ := body["agents"].([]any)
	for _, a := range list {
		m := a.(map[string]any)
		out[m["name"].(string)] = m
	}
	return out
}

// waitOnline waits until the named agent is online over the given transport ("" = any).
func (c *controller) waitOnline(t *testing.T, name, transport string) map[string]any {
	t.Helper()
	var got map[string]any
	waitFor(t, 30*time.Second, "agent "+name+" online", func() bool {
		got = c.agents(t)[name]
		return got != nil && got["status"] == "online" &&
			(transport == "" || got["transport"] == transport)
	})
	return got
}

// agent is a running grim-agent.
type agent struct {
	*process
	stateDir string
	name     string
}

func startAgent(t *testing.T, c *controller, name, token, transport string) *agent {
	t.Helper()
	a := &agent{stateDir: t.TempDir(), name: name}
	a.run(t, c, token, transport)
	return a
}

func (a *agent) run(t *testing.T, c *controller, token, transport string) {
	t.Helper()
	args := []string{"run", "--config=", "--controller", c.agentAddr, "--state-dir", a.stateDir,
		"--name", a.name, "--log-format", "json", "--log-level", "debug"}
	if token != "" {
		args = append(args, "--token", token)
	}
	if transport != "" {
		args = append(args, "--transport", transport)
	}
	a.process = start(t, "grim-agent", nil, args...)
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logLines parses a JSON log and returns its records.
func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// withTimeout is a context for one step of a test.
func withTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
