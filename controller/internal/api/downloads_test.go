package api

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/controller/internal/downloads"
	"github.com/grim-reaper/grim/controller/internal/store"
)

func withDownloads(site *downloads.Site) func(*Deps) {
	return func(d *Deps) { d.Downloads = site }
}

func TestDownloads(t *testing.T) {
	dir := t.TempDir()
	deb := []byte("!<arch>\nnot really a package")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "grim-agent_amd64.deb"), deb, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), "secret.deb"), deb, 0o644))
	env := newEnv(t, withDownloads(&downloads.Site{Dir: dir, AgentAddr: "0.0.0.0:8443"}))

	rec := env.do("GET", "/downloads/", "", nil)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	list := decode(t, rec)
	files, _ := list["files"].([]any)
	require.Len(t, files, 1, "only packages are listed")
	assert.Equal(t, "grim-agent_amd64.deb", files[0].(map[string]any)["name"])
	assert.Equal(t, "http://example.com/downloads/install.sh", list["install_script"])

	rec = env.do("GET", "/downloads/grim-agent_amd64.deb", "", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, deb, rec.Body.Bytes())

	for _, p := range []string{"/downloads/notes.txt", "/downloads/grim-agent_arm64.deb",
		"/downloads/..%2Fsecret.deb", "/downloads/../../etc/passwd"} {
		t.Run(p, func(t *testing.T) {
			requireError(t, env.do("GET", p, "", nil), http.StatusNotFound, CodeNotFound)
		})
	}

	rec = env.do("GET", "/downloads/install.sh", "", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	script := rec.Body.String()
	assert.True(t, strings.HasPrefix(script, "#!/bin/sh\n"))
	assert.Contains(t, script, "base=http://example.com/downloads\n")
	assert.Contains(t, script, "grim-agent enroll")
}

func TestDownloadsWithoutDirectory(t *testing.T) {
	env := newEnv(t)
	rec := env.do("GET", "/downloads/", "", nil)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, float64(0), decode(t, rec)["total"])
	requireError(t, env.do("GET", "/downloads/grim-agent_amd64.deb", "", nil),
		http.StatusNotFound, CodeNotFound)
}

func TestJoinTokenInstallCommand(t *testing.T) {
	tests := []struct {
		name string
		site downloads.Site
		want string
	}{
		{"derived from the request", downloads.Site{AgentAddr: "0.0.0.0:8443"},
			"curl -fsSL http://example.com/downloads/install.sh | sudo sh -s -- " +
				"--controller example.com:8443 --token "},
		{"listening address kept", downloads.Site{AgentAddr: "10.0.0.5:9443"},
			"--controller 10.0.0.5:9443 --token "},
		{"public addresses", downloads.Site{AgentAddr: "0.0.0.0:8443",
			PublicURL: "https://grim.example.net/", PublicAgentAddr: "agents.example.net:443"},
			"curl -fsSL https://grim.example.net/downloads/install.sh | sudo sh -s -- " +
				"--controller agents.example.net:443 --token "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t, withDownloads(&tt.site))
			_, key := env.account("alice@example.com", store.RoleUser, "full")
			rec := env.do("POST", "/api/agents/tokens", key, nil)
			require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
			body := decode(t, rec)
			cmd, _ := body["install_command"].(string)
			assert.Contains(t, cmd, tt.want)
			assert.True(t, strings.HasSuffix(cmd, " "+body["token"].(string)), cmd)
			assert.NotContains(t, env.logs.String(), body["token"].(string))
		})
	}
}

func TestAgentsOutdated(t *testing.T) {
	env := newEnv(t) // the controller is 1.2.3-test
	alice, key := env.account("alice@example.com", store.RoleUser, "full")
	ctx := context.Background()
	for name, version := range map[string]string{"old": "1.1.9", "same": "1.2.3",
		"newer": "1.3.0", "unknown": ""} {
		ag := env.enroll(alice.ID, name)
		require.NoError(t, env.store.Agents().MarkOnline(ctx, ag.ID, "quic", version,
			name+".lan", env.clock.Now()))
	}
	rec := env.do("GET", "/api/agents", key, nil)
	require.Equal(t, http.StatusOK, rec.Code)
	agents, _ := decode(t, rec)["agents"].([]any)
	got := map[string]bool{}
	for _, a := range agents {
		m := a.(map[string]any)
		got[m["name"].(string)] = m["outdated"].(bool)
	}
	assert.Equal(t, map[string]bool{"old": true, "same": false, "newer": false,
		"unknown": false}, got)
}
