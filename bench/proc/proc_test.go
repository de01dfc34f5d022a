package proc

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs sh and Linux rusage")
	}
	res, err := Run(context.Background(), []string{"GREETING=hi"}, "/bin/sh", "-c",
		`echo "$GREETING"; echo oops >&2; exit 3`)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 3, exit.ExitCode())
	assert.Equal(t, "hi\n", string(res.Stdout))
	assert.Equal(t, "oops\n", string(res.Stderr))
	assert.Positive(t, res.MaxRSS)
}

func TestRunCanceled(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs sleep")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, nil, "/bin/sleep", "10")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestDaemonStop(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("needs sleep")
	}
	d, err := StartDaemon("sleeper", filepath.Join(t.TempDir(), "log"), nil, "/bin/sleep", "60")
	require.NoError(t, err)
	assert.False(t, d.Exited())
	require.NoError(t, d.Stop(), "ended by SIGTERM is not an error")
	assert.True(t, d.Exited())
	require.NoError(t, d.Stop(), "a second Stop is harmless")
}
