package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/grim-reaper/grim/internal/config"
)

// shippedConfig is the settings file the controller's package installs as
// /etc/grim/controller.yaml.
const shippedConfig = "../../../deployments/config/controller.yaml"

// commentedSetting matches a setting the shipped file shows commented out, such as
// "# public-url: https://grim.example.net".
var commentedSetting = regexp.MustCompile(`(?m)^# ([a-z-]+: )`)

// TestShippedSettingsFileLoads loads the packaged settings file the way the unit's
// `grim-controller serve --config /etc/grim/controller.yaml` does, once as shipped and
// once with every setting it shows commented out switched on: an unknown key would stop
// the service at its first start.
func TestShippedSettingsFileLoads(t *testing.T) {
	raw, err := os.ReadFile(shippedConfig)
	require.NoError(t, err)
	all := commentedSetting.ReplaceAll(raw, []byte("$1"))
	require.NotEqual(t, string(raw), string(all), "the file shows no optional settings")
	allPath := filepath.Join(t.TempDir(), "controller.yaml")
	require.NoError(t, os.WriteFile(allPath, all, 0o600))

	for name, path := range map[string]string{"as shipped": shippedConfig,
		"optional settings on": allPath} {
		t.Run(name, func(t *testing.T) {
			cmd := newServeCmd()
			require.NoError(t, cmd.Flags().Parse([]string{"--config", path}))
			require.NoError(t, config.Load(cmd.Flags(), envPrefix, func(string) string {
				return ""
			}))
			for flag, want := range map[string]string{"data-dir": "/var/lib/grim",
				"http-addr": "0.0.0.0:8080", "agent-addr": "0.0.0.0:8443",
				"downloads-dir": "/usr/share/grim/downloads", "log-format": "journal"} {
				got, err := cmd.Flags().GetString(flag)
				require.NoError(t, err)
				assert.Equal(t, want, got, flag)
			}
		})
	}
}
