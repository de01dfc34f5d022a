package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// execute runs grim-agent with args and returns its exit status and error.
func execute(t *testing.T, args ...string) (int, error) {
	t.Helper()
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.ExecuteContext(context.Background())
	if err == nil {
		return 0, nil
	}
	return exitCode(err), err
}

func TestCommandsRefuseWhatCannotWork(t *testing.T) {
	state := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(t.TempDir(), "agent.yaml")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantErr  string
	}{
		{"not enrolled", []string{"run", "--config=", "--state-dir", state}, nil,
			exitNotEnrolled, "not enrolled yet"},
		{"not enrolled, settings from the file",
			[]string{"run", "--config", file("state-dir: " + state + "\n")}, nil,
			exitNotEnrolled, "not enrolled yet"},
		{"unknown setting", []string{"run", "--config", file("state_dir: /x\n")}, nil,
			1, "unknown settings: state_dir"},
		{"named file missing", []string{"run", "--config", "/nonexistent/agent.yaml"}, nil,
			1, "read config"},
		{"bad transport from the environment", []string{"run", "--config=", "--state-dir", state},
			map[string]string{"GRIM_AGENT_TRANSPORT": "carrier-pigeon"}, 1, "carrier-pigeon"},
		{"enroll without token", []string{"enroll", "--config=", "--controller", "c:8443"}, nil,
			1, "needs --controller and --token"},
		{"enroll reads run's settings", []string{"enroll",
			"--config", file("log-level: debug\nlog-format: journal\n")}, nil,
			1, "needs --controller and --token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, err := execute(t, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Equal(t, tt.wantCode, code)
		})
	}
}
