package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type settings struct {
	dir        string
	addr       string
	transports []string
	heartbeat  time.Duration
	private    bool
}

func newFlags(s *settings) *pflag.FlagSet {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String(FlagName, "", "config file")
	fs.StringVar(&s.dir, "data-dir", "./data", "")
	fs.StringVar(&s.addr, "http-addr", "127.0.0.1:8080", "")
	fs.StringSliceVar(&s.transports, "agent-transports", []string{"quic", "tcp"}, "")
	fs.DurationVar(&s.heartbeat, "heartbeat", 10*time.Second, "")
	fs.BoolVar(&s.private, "allow-private-webhooks", false, "")
	return fs
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

func TestApplyPrecedence(t *testing.T) {
	file := "data-dir: /from/file\nhttp-addr: 0.0.0.0:1\nagent-transports: [tcp]\n" +
		"heartbeat: 3s\nallow-private-webhooks: true\n"
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want settings
	}{
		{"defaults without file or env", nil, nil,
			settings{"./data", "127.0.0.1:8080", []string{"quic", "tcp"}, 10 * time.Second, false}},
		{"file", []string{"--config=F"}, nil,
			settings{"/from/file", "0.0.0.0:1", []string{"tcp"}, 3 * time.Second, true}},
		{"env beats file", []string{"--config=F"},
			map[string]string{"T_DATA_DIR": "/from/env", "T_AGENT_TRANSPORTS": "quic,tcp"},
			settings{"/from/env", "0.0.0.0:1", []string{"quic", "tcp"}, 3 * time.Second, true}},
		{"flag beats env and file", []string{"--config=F", "--data-dir=/from/flag"},
			map[string]string{"T_DATA_DIR": "/from/env"},
			settings{"/from/flag", "0.0.0.0:1", []string{"tcp"}, 3 * time.Second, true}},
	}
	path := writeFile(t, file)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s settings
			fs := newFlags(&s)
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				if a == "--config=F" {
					a = "--config=" + path
				}
				args[i] = a
			}
			require.NoError(t, fs.Parse(args))
			cfgFile, _ := fs.GetString(FlagName)
			err := Apply(fs, Source{File: cfgFile, EnvPrefix: "T_",
				Getenv: func(k string) string { return tt.env[k] }})
			require.NoError(t, err)
			assert.Equal(t, tt.want, s)
		})
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		required bool
		env      map[string]string
		want     string
	}{
		{"unknown key", "data-dir: x\nhttp-adr: y\n", false, nil, "unknown settings: http-adr"},
		{"bad value", "heartbeat: soon\n", false, nil, `key "heartbeat"`},
		{"bad env", "", false, map[string]string{"T_HEARTBEAT": "never"}, "T_HEARTBEAT"},
		{"not yaml", "data-dir: [x\n", false, nil, "parse config"},
		{"map value", "data-dir: {a: b}\n", false, nil, "maps are not settings"},
		{"list for a scalar", "data-dir: [a, b]\n", false, nil, "want one value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s settings
			fs := newFlags(&s)
			err := Apply(fs, Source{File: writeFile(t, tt.body), EnvPrefix: "T_",
				Getenv: func(k string) string { return tt.env[k] }})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestApplyMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.yaml")
	var s settings
	require.NoError(t, Apply(newFlags(&s), Source{File: missing}))
	err := Apply(newFlags(&s), Source{File: missing, Required: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "read config")
}

func TestEnvName(t *testing.T) {
	assert.Equal(t, "GRIM_AGENT_STATE_DIR", EnvName("GRIM_AGENT_", "state-dir"))
}

func TestLoadNamesTheFile(t *testing.T) {
	path := writeFile(t, "data-dir: /f\n")
	missing := filepath.Join(t.TempDir(), "none.yaml")
	tests := []struct {
		name    string
		def     string
		args    []string
		env     map[string]string
		wantDir string
		wantErr bool
	}{
		{"default file read", path, nil, nil, "/f", false},
		{"missing default is fine", missing, nil, nil, "./data", false},
		{"named missing file fails", path, []string{"--config=" + missing}, nil, "", true},
		{"env names the file", missing, nil, map[string]string{"T_CONFIG": path}, "/f", false},
		{"env names a missing file", path, nil, map[string]string{"T_CONFIG": missing}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s settings
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			AddFlag(fs, tt.def)
			fs.StringVar(&s.dir, "data-dir", "./data", "")
			require.NoError(t, fs.Parse(tt.args))
			err := Load(fs, "T_", func(k string) string { return tt.env[k] })
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantDir, s.dir)
		})
	}
}

func TestUpdateKeepsCommentsAndKeys(t *testing.T) {
	tests := []struct {
		name, before string
		want         []string
	}{
		{"missing file", "", []string{"controller: c.example:8443\n", "name: web-1\n"}},
		{"only comments", "# the agent's settings\n",
			[]string{"# the agent's settings", "controller: c.example:8443\n"}},
		{"existing keys", "# head\ncontroller: old:1 # where\nlog-level: debug\n",
			[]string{"# head", "controller: c.example:8443 # where\n", "log-level: debug\n",
				"name: web-1\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "etc", "agent.yaml")
			if tt.before != "" {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(tt.before), 0o644))
			}
			err := Update(path, map[string]string{"controller": "c.example:8443",
				"name": "web-1", "transport": ""}, []string{"controller", "name", "transport"})
			require.NoError(t, err)
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			for _, w := range tt.want {
				assert.Contains(t, string(got), w)
			}
			assert.NotContains(t, string(got), "transport")
		})
	}
}
