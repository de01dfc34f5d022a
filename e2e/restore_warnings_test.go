package e2e

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/testkit"
)

// nobody is the unprivileged user the guest agent runs as.
const nobody = 65534

// TestRestoreWarningsReachTheAPI restores files of other owners through an agent that runs
// as an unprivileged user: the restore completes, the owners it could not set and the
// setuid bit it left off are in the restore's warnings, and the file on disk is neither
// chowned nor setuid.
func TestRestoreWarningsReachTheAPI(t *testing.T) {
	if os.Geteuid() != 0 {
		testkit.Unavailable(t, "running an agent as another user needs root")
	}
	c := startController(t, controllerOptions{})
	startAgent(t, c, "host", c.joinToken(t), "")
	c.waitOnline(t, "host", "")

	src := filepath.Join(t.TempDir(), "src")
	require.NoError(t, os.MkdirAll(src, 0o755))
	owned := filepath.Join(src, "owned.txt")
	require.NoError(t, os.WriteFile(owned, []byte("someone else's\n"), 0o644))
	require.NoError(t, os.Chown(owned, 1234, 2345))
	suid := filepath.Join(src, "tool")
	require.NoError(t, os.WriteFile(suid, []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.Chmod(suid, 0o4755|os.ModeSetuid))
	b := c.backup(t, "host", src)

	base := guestDir(t)
	startGuestAgent(t, c, base, "guest", c.joinToken(t))
	c.waitOnline(t, "guest", "")
	dst := filepath.Join(base, "restored")
	require.NoError(t, os.Mkdir(dst, 0o755))
	require.NoError(t, os.Chown(dst, nobody, nobody))

	r, code := c.grimJSON(t, "restore", "create", b["id"].(string), "--to", dst,
		"--agent", "guest", "--wait")
	require.Equal(t, 0, code, "restore: %v", r)
	require.Equal(t, "completed", r["status"])
	warnings, _ := r["warnings"].([]any)
	require.NotEmpty(t, warnings, "the owners the guest could not set are reported")
	joined := ""
	for _, w := range warnings {
		joined += w.(string) + "\n"
	}
	assert.Contains(t, joined, "owner")
	assert.Contains(t, joined, "tool", "the setuid bit left off is named with its file")

	// The restore's own record says the same as the reply of the wait.
	status, got := c.call(t, "GET", "/api/restore/"+r["id"].(string), c.adminKey, nil)
	require.Equal(t, 200, status)
	assert.Len(t, got["restore"].(map[string]any)["warnings"], len(warnings))

	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(filepath.Join(dst, "owned.txt"), &st))
	assert.EqualValues(t, nobody, st.Uid, "owned by the agent's user, as the warning says")
	fi, err := os.Stat(filepath.Join(dst, "tool"))
	require.NoError(t, err)
	assert.Zero(t, fi.Mode()&os.ModeSetuid, "no setuid file owned by the agent's user")
}

// guestDir is a directory the unprivileged agent can reach, removed after the test.
// t.TempDir's directories are private to root.
func guestDir(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "grim-guest-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o755))
	return base
}

// startGuestAgent runs a copy of the agent binary as nobody, with its state under base.
func startGuestAgent(t *testing.T, c *controller, base, name, token string) {
	t.Helper()
	bin := filepath.Join(base, "grim-agent")
	copyFile(t, filepath.Join(binDir, "grim-agent"), bin, 0o755)
	state := filepath.Join(base, "state")
	require.NoError(t, os.Mkdir(state, 0o700))
	require.NoError(t, os.Chown(state, nobody, nobody))

	logs := &logBuffer{}
	cmd := exec.Command(bin, "run", "--config=", "--controller", c.agentAddr,
		"--state-dir", state, "--name", name, "--token", token, "--log-format", "json")
	cmd.Env = append(os.Environ(), "HOME="+base)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody,
		Gid: nobody}}
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("--- guest agent output:\n%s", strings.TrimSpace(logs.String()))
		}
	})
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	require.NoError(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode)
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}
