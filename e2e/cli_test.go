package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// grim runs the command-line client against the controller with the admin key and returns
// its standard output and exit code.
func (c *controller) grim(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, _, code := c.grimAs(t, c.adminKey, args...)
	return out, code
}

// grimAs runs the command-line client with key and returns its standard output, its
// standard error and its exit code.
func (c *controller) grimAs(t *testing.T, key string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "grim"), args...)
	cmd.Env = append(cmd.Environ(), "GRIM_URL=http://"+c.httpAddr, "GRIM_API_KEY="+key)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	if code != 0 {
		t.Logf("grim %v: exit %d, stderr: %s", args, code, stderr.String())
	}
	return stdout.String(), stderr.String(), code
}

// grimJSON runs the client with --json and decodes its output.
func (c *controller) grimJSON(t *testing.T, args ...string) (map[string]any, int) {
	t.Helper()
	out, code := c.grim(t, append([]string{"--json"}, args...)...)
	m := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(out), &m), "output: %s", out)
	return m, code
}
