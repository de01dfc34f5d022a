package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/grim-reaper/grim/controller/internal/server"
	"github.com/grim-reaper/grim/internal/config"
	"github.com/grim-reaper/grim/internal/logging"
)

// Where the controller's settings come from besides its flags: the file, then variables
// named GRIM_CONTROLLER_<FLAG> (GRIM_CONTROLLER_DATA_DIR for --data-dir).
const (
	defaultConfigFile = "/etc/grim/controller.yaml"
	envPrefix         = "GRIM_CONTROLLER_"
)

// serveOptions are the flags of `grim-controller serve`.
type serveOptions struct {
	cfg       server.Config
	logLevel  string
	logFormat string
}

func newServeCmd() *cobra.Command {
	o := &serveOptions{cfg: server.DefaultConfig()}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the controller until SIGTERM or SIGINT, then drain and exit 0",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := config.Load(cmd.Flags(), envPrefix, os.Getenv); err != nil {
				return err
			}
			return o.run(cmd.Context())
		},
	}
	f := cmd.Flags()
	config.AddFlag(f, defaultConfigFile)
	c := &o.cfg
	f.StringVar(&c.DataDir, "data-dir", c.DataDir, "state directory (SQLite file, CA, local storage)")
	f.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "REST API and dashboard address")
	f.StringVar(&c.AgentAddr, "agent-addr", c.AgentAddr, "agent endpoint: QUIC on UDP and TLS on TCP")
	f.StringVar(&c.DatabaseURL, "database-url", "", "postgres:// URL; default: SQLite in the data dir")
	f.StringVar(&c.StorageURL, "storage-url", "", "chunk storage; default: under the data dir")
	f.BoolVar(&c.AllowPrivateWebhooks, "allow-private-webhooks", false,
		"let webhooks target loopback and private addresses")
	f.DurationVar(&c.WebhookRetryBase, "webhook-retry-base", c.WebhookRetryBase,
		"wait after a webhook delivery's first failure; doubles up to an hour")
	f.DurationVar(&c.WebhookRetryFor, "webhook-retry-for", c.WebhookRetryFor,
		"how long a failing webhook delivery is retried")
	f.DurationVar(&c.WebhookDisableAfter, "webhook-disable-after", c.WebhookDisableAfter,
		"disable a webhook whose deliveries all failed for this long")
	f.DurationVar(&c.AlertAgentOffline, "alert-agent-offline", c.AlertAgentOffline,
		"raise a system alert for an agent offline this long")
	f.Float64Var(&c.AlertStorageFull, "alert-storage-full", c.AlertStorageFull,
		"raise a system alert when storage is this many percent full")
	f.IntVar(&c.AlertBackupFailures, "alert-backup-failures", c.AlertBackupFailures,
		"raise a system alert when this many backups of an agent fail in a row")
	f.StringSliceVar(&c.AgentTransports, "agent-transports", c.AgentTransports,
		"agent transports to listen on: quic, tcp")
	f.DurationVar(&c.Heartbeat, "heartbeat", c.Heartbeat, "agent heartbeat period")
	f.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "drain limit on SIGTERM")
	f.DurationVar(&c.JobQueueTimeout, "job-queue-timeout", c.JobQueueTimeout,
		"fail a job whose agent stays offline this long")
	f.StringVar(&c.DownloadsDir, "downloads-dir", c.DownloadsDir,
		"agent packages served at /downloads/ (default: the packaged ones, when installed)")
	f.StringVar(&c.PublicURL, "public-url", "",
		"URL hosts reach the API at, for install commands (default: from each request)")
	f.StringVar(&c.PublicAgentAddr, "public-agent-addr", "",
		"HOST:PORT agents reach the agent endpoint at (default: --agent-addr, or the "+
			"request's host with its port)")
	f.DurationVar(&c.GCInterval, "gc-interval", c.GCInterval,
		"automatic garbage collection of every account; 0 turns it off")
	f.DurationVar(&c.GCGrace, "gc-grace", c.GCGrace,
		"how long collection spares newly stored blobs and keeps deleted packs' files")
	f.DurationVar(&c.CheckInterval, "check-interval", c.CheckInterval,
		"automatic storage check of every account; 0 turns it off")
	f.Float64Var(&c.CheckReadPercent, "check-read-data", c.CheckReadPercent,
		"percentage of packs an automatic check reads whole")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "text, json or journal (systemd)")
	return cmd
}

func (o *serveOptions) run(ctx context.Context) error {
	log, err := logging.New(os.Stderr, o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	o.cfg.BootstrapAPIKey = os.Getenv("GRIM_BOOTSTRAP_API_KEY")
	o.cfg.BootstrapPassword = os.Getenv("GRIM_BOOTSTRAP_PASSWORD")
	o.cfg.MasterKey = os.Getenv("GRIM_MASTER_KEY")
	srv, err := server.New(ctx, o.cfg, log)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}
