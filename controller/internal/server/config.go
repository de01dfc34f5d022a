// Package server wires the controller together: state store, certificate authority, agent
// endpoint, REST API and dashboard, and the background housekeeping, with a graceful stop.
package server

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/grim-reaper/grim/controller/internal/gc"
	"github.com/grim-reaper/grim/controller/internal/maintenance"
	"github.com/grim-reaper/grim/controller/internal/webhook"
)

// Config is the controller's configuration, filled from flags by the serve command.
type Config struct {
	DataDir     string
	HTTPAddr    string
	AgentAddr   string
	DatabaseURL string
	StorageURL  string
	// AllowPrivateWebhooks lets webhooks target loopback and private addresses.
	AllowPrivateWebhooks bool
	// WebhookRetryBase is the wait after a delivery's first failed attempt; each later
	// wait doubles, up to an hour. WebhookRetryFor is how long a delivery is retried.
	WebhookRetryBase, WebhookRetryFor time.Duration
	// WebhookDisableAfter turns off a webhook whose deliveries all failed for this long.
	WebhookDisableAfter time.Duration
	// AlertAgentOffline raises a system alert for an agent silent this long.
	AlertAgentOffline time.Duration
	// AlertStorageFull raises a system alert when storage is this many percent full.
	AlertStorageFull float64
	// AlertBackupFailures raises a system alert when this many backups of an agent failed
	// in a row.
	AlertBackupFailures int
	// AgentTransports lists the agent transports to listen on: "quic", "tcp" or both.
	AgentTransports []string
	// Heartbeat is the agents' heartbeat period; an agent silent for three is offline.
	Heartbeat time.Duration
	// ShutdownTimeout bounds the drain on SIGTERM.
	ShutdownTimeout time.Duration
	// BootstrapAPIKey, when set, becomes the admin key created on first start.
	BootstrapAPIKey string
	// BootstrapPassword, when set, becomes the admin's dashboard password on first start.
	BootstrapPassword string
	// MasterKey, when set (base64 of 32 bytes), is the key that wraps account keys;
	// otherwise it is kept in <data-dir>/master.key. Controllers sharing a database must
	// share it.
	MasterKey string
	// JobQueueTimeout fails a backup or restore whose agent does not come online to take it.
	JobQueueTimeout time.Duration
	// DownloadsDir holds the agent packages served at /downloads/; missing serves none.
	DownloadsDir string
	// PublicURL and PublicAgentAddr are the API's URL and the agent endpoint as hosts
	// reach them, for install commands; empty means derived from each request.
	PublicURL, PublicAgentAddr string
	// GCInterval and CheckInterval are the periods of the automatic garbage collection
	// and storage check of every account; zero turns them off.
	GCInterval, CheckInterval time.Duration
	// CheckReadPercent is the share of packs an automatic check reads whole.
	CheckReadPercent float64
	// GCGrace is how long newly stored blobs are spared by collection and how long the
	// files of deleted packs stay for readers that located them just before.
	GCGrace time.Duration
}

// DefaultDownloadsDir is where the controller's package puts the agent packages.
const DefaultDownloadsDir = "/usr/share/grim/downloads"

// DefaultConfig returns the defaults the contract names.
func DefaultConfig() Config {
	return Config{
		DataDir:          "./data",
		HTTPAddr:         "127.0.0.1:8080",
		AgentAddr:        "127.0.0.1:8443",
		AgentTransports:  []string{"quic", "tcp"},
		Heartbeat:        10 * time.Second,
		ShutdownTimeout:  30 * time.Second,
		JobQueueTimeout:  time.Hour,
		DownloadsDir:     DefaultDownloadsDir,
		GCInterval:       maintenance.DefaultGCEvery,
		CheckInterval:    maintenance.DefaultCheckEvery,
		CheckReadPercent: maintenance.DefaultCheckPercent,
		GCGrace:          gc.DefaultGrace,

		WebhookRetryBase:    webhook.DefaultRetry.Base,
		WebhookRetryFor:     webhook.DefaultRetry.GiveUpAfter,
		WebhookDisableAfter: webhook.DefaultDisableAfter,
		AlertAgentOffline:   webhook.DefaultAlertAgentOffline,
		AlertStorageFull:    webhook.DefaultAlertStorageFull,
		AlertBackupFailures: webhook.DefaultAlertBackupFailure,
	}
}

// Validate reports the first setting that cannot work, naming its flag.
func (c Config) Validate() error {
	if strings.TrimSpace(c.DataDir) == "" {
		return errors.New("--data-dir must not be empty")
	}
	for flag, addr := range map[string]string{"--http-addr": c.HTTPAddr, "--agent-addr": c.AgentAddr} {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("%s %q: %w", flag, addr, err)
		}
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return errors.New("--database-url must be a postgres:// URL")
		}
	}
	if c.StorageURL != "" {
		u, err := url.Parse(c.StorageURL)
		if err != nil || u.Scheme != "file" {
			// TODO: S3-compatible storage for scaled-out controllers; only local disk so far.
			return errors.New("--storage-url: only file:// URLs are supported so far")
		}
	}
	if _, _, err := c.transports(); err != nil {
		return err
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return errors.New("--public-url must be an http:// or https:// URL")
		}
	}
	if c.PublicAgentAddr != "" {
		if _, _, err := net.SplitHostPort(c.PublicAgentAddr); err != nil {
			return fmt.Errorf("--public-agent-addr %q: %w", c.PublicAgentAddr, err)
		}
	}
	if c.Heartbeat < 100*time.Millisecond {
		return errors.New("--heartbeat must be at least 100ms")
	}
	if c.GCInterval < 0 || c.CheckInterval < 0 || c.GCGrace < 0 {
		return errors.New("--gc-interval, --check-interval and --gc-grace must not be negative")
	}
	if c.CheckReadPercent < 0 || c.CheckReadPercent > 100 {
		return errors.New("--check-read-data is a percentage from 0 to 100")
	}
	return c.validateWebhooks()
}

// validateWebhooks checks the settings of webhooks and alerts.
func (c Config) validateWebhooks() error {
	switch {
	case c.WebhookRetryBase < 10*time.Millisecond:
		return errors.New("--webhook-retry-base must be at least 10ms")
	case c.WebhookRetryFor < c.WebhookRetryBase:
		return errors.New("--webhook-retry-for must be at least --webhook-retry-base")
	case c.WebhookDisableAfter <= 0:
		return errors.New("--webhook-disable-after must be positive")
	case c.AlertAgentOffline <= 0:
		return errors.New("--alert-agent-offline must be positive")
	case c.AlertStorageFull <= 0 || c.AlertStorageFull > 100:
		return errors.New("--alert-storage-full must be a percentage above 0")
	case c.AlertBackupFailures < 1:
		return errors.New("--alert-backup-failures must be at least 1")
	}
	return nil
}

func (c Config) transports() (quic, tcp bool, err error) {
	for _, t := range c.AgentTransports {
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "quic":
			quic = true
		case "tcp":
			tcp = true
		default:
			return false, false, fmt.Errorf("--agent-transports: unknown transport %q", t)
		}
	}
	if !quic && !tcp {
		return false, false, errors.New("--agent-transports: name quic, tcp or both")
	}
	return quic, tcp, nil
}

// storageDir is where chunks live on local disk.
func (c Config) storageDir() string {
	if c.StorageURL != "" {
		if u, err := url.Parse(c.StorageURL); err == nil && u.Path != "" {
			return u.Path
		}
	}
	return c.DataDir + "/storage"
}

// trustedOrigins is the origin (scheme, host and port) of PublicURL, none without one:
// the dashboard's pages come from there when a proxy stands in front of the controller.
func (c Config) trustedOrigins() []string {
	u, err := url.Parse(c.PublicURL)
	if c.PublicURL == "" || err != nil {
		return nil
	}
	return []string{u.Scheme + "://" + u.Host}
}
