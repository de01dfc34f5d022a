package server

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		errHas string
	}{
		{"defaults", func(*Config) {}, ""},
		{"empty data dir", func(c *Config) { c.DataDir = " " }, "--data-dir"},
		{"bad http addr", func(c *Config) { c.HTTPAddr = "nope" }, "--http-addr"},
		{"bad agent addr", func(c *Config) { c.AgentAddr = "1.2.3.4" }, "--agent-addr"},
		{"mysql url", func(c *Config) { c.DatabaseURL = "mysql://x" }, "--database-url"},
		{"postgres url", func(c *Config) { c.DatabaseURL = "postgres://u@h/db" }, ""},
		{"s3 storage", func(c *Config) { c.StorageURL = "s3://bucket" }, "--storage-url"},
		{"file storage", func(c *Config) { c.StorageURL = "file:///srv/grim" }, ""},
		{"tcp only", func(c *Config) { c.AgentTransports = []string{"tcp"} }, ""},
		{"no transport", func(c *Config) { c.AgentTransports = nil }, "--agent-transports"},
		{"bad transport", func(c *Config) { c.AgentTransports = []string{"udp"} }, "unknown"},
		{"tiny heartbeat", func(c *Config) { c.Heartbeat = time.Millisecond }, "--heartbeat"},
		{"tiny retry", func(c *Config) { c.WebhookRetryBase = time.Microsecond },
			"--webhook-retry-base"},
		{"retry for less than a wait", func(c *Config) { c.WebhookRetryFor = time.Second },
			"--webhook-retry-for"},
		{"no disable", func(c *Config) { c.WebhookDisableAfter = 0 }, "--webhook-disable-after"},
		{"no offline alert", func(c *Config) { c.AlertAgentOffline = 0 }, "--alert-agent-offline"},
		{"storage over 100%", func(c *Config) { c.AlertStorageFull = 101 }, "--alert-storage-full"},
		{"no failures", func(c *Config) { c.AlertBackupFailures = 0 }, "--alert-backup-failures"},
		{"short retries", func(c *Config) {
			c.WebhookRetryBase, c.WebhookRetryFor = 50*time.Millisecond, time.Minute
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.errHas == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.errHas)
		})
	}
}

func TestStorageDir(t *testing.T) {
	c := DefaultConfig()
	assert.Equal(t, "./data/storage", c.storageDir())
	c.StorageURL = "file:///srv/grim"
	assert.Equal(t, "/srv/grim", c.storageDir())
}
